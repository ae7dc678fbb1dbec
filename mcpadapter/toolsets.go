package mcpadapter

import (
	"embed"
	"io/fs"
)

//go:embed programs/*.graphql
var programsFiles embed.FS

//go:embed kordi/*.graphql
var kordiFiles embed.FS

// Toolset is one MCP server's operation files (one per tool, or per
// resource when marked @resource) and the rules its results follow.
type Toolset struct {
	Files fs.FS
	// MaxResultChars bounds a tool result's JSON text; 0: unbounded. See
	// truncate.
	MaxResultChars int
}

// KordiMaxResultChars is the Subscriptions seed's bound on a tool result
// ("Truncates at 25k chars").
const KordiMaxResultChars = 25_000

// Programs is the toolset served at /api/mcp.
func Programs() Toolset { return Toolset{Files: ProgramsTools()} }

// Kordi is the Subscriptions toolset served at /mcp: seven tools and the
// kordi://subscription-pulse resource.
func Kordi() Toolset {
	return Toolset{Files: sub(kordiFiles, "kordi"), MaxResultChars: KordiMaxResultChars}
}

// ProgramsTools is the Programs toolset's files: one operation file per
// tool, named after the tool.
func ProgramsTools() fs.FS { return sub(programsFiles, "programs") }

func sub(f embed.FS, dir string) fs.FS {
	s, err := fs.Sub(f, dir)
	if err != nil {
		panic(err) // the embedded directory is fixed at build time
	}
	return s
}
