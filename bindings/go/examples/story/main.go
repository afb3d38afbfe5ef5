package main

import (
	"context"
	"fmt"
	"log"

	"ember.local/ember"
)

func main() {
	model, err := ember.Load("tests/data/models/stories260K.gguf")
	if err != nil {
		log.Fatal(err)
	}
	defer model.Close()
	session, err := model.NewSession(ember.SessionOptions{Sampler: ember.SamplerOptions{Temperature: 0.8, Seed: 7}})
	if err != nil {
		log.Fatal(err)
	}
	defer session.Close()
	_, err = session.Generate(context.Background(), "Once upon a time", ember.GenerateOptions{MaxTokens: 64},
		func(p ember.Piece) bool { fmt.Print(p.Text); return true })
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println()
}
