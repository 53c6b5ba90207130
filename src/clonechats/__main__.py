from clonechats.cli import app

app()
