"""Small text utilities: slugs, a tokenizer and a word wrapper."""
