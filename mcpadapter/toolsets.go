package mcpadapter

import (
	"embed"
	"io/fs"
)

//go:embed programs/*.graphql
var programsFiles embed.FS

// ProgramsTools is the Programs toolset served at /api/mcp: one operation
// file per tool, named after the tool.
func ProgramsTools() fs.FS {
	sub, err := fs.Sub(programsFiles, "programs")
	if err != nil {
		panic(err) // the embedded directory is fixed at build time
	}
	return sub
}
