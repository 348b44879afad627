"""The studio: an interactive web app (Gradio) for stylization and talking heads; `reanimate app` and
`api.studio` start it."""
