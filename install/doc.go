// Package install holds what a brand needs to put Tandem on its site: the
// registry of platform install recipes, the attribution parameters the
// tracking script reads, and the ready-to-paste snippet.
package install
