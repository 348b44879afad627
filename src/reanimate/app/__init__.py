"""The studio: an interactive web app (Gradio) over the stylization layer; `reanimate app` and `api.studio` start it."""
