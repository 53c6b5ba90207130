"""Media: uploads, voice clips, video jobs and the media store that keeps their bytes."""
