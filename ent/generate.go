// Package ent is the generated ent client; its schema lives in ./schema.
package ent

//go:generate go run -mod=mod ./entc.go
