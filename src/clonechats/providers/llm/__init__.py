"""Language models: stream a persona's reply, token by token, then report what it used."""
