package main

import "io"

func runWatch(args []string, stdout, stderr io.Writer) error { return usageErrorf("todo") }
