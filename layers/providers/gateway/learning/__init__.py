"""Learning from traffic: every answer recorded, repeated prompts detected off the response path (embeddings),
and training examples written once each to the dataset."""
