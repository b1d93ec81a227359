"""Download pages: `df-dist-v1/NAME/index.html` and `df-dist-v1/index.html`."""
