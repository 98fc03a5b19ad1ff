package main

import (
	"go/parser"
	"go/token"
	"strings"
	"testing"
)

// TestPackageDocListsCommands: the command's package documentation names
// every command the dispatcher knows, and help.
func TestPackageDocListsCommands(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "main.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	doc := f.Doc.Text()
	names := []string{"help"}
	for _, c := range commands {
		names = append(names, c.name)
	}
	for _, name := range names {
		if !strings.Contains(doc, "\tzebra "+name+" ") {
			t.Errorf("the package documentation does not list %q:\n%s", name, doc)
		}
	}
}
