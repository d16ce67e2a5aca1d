"""The only layer that imports the Azure SDK: a narrow gateway returning our dataclasses."""
