"""End to end: the stories, hostile input and the matrices, through the command line and the API."""
