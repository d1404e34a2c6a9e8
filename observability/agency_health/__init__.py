"""Each agency's health as the whole fleet sees it: samples in, state, availability and
incidents out (see `model` for the shared vocabulary)."""
