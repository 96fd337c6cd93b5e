"""Lengths, areas and perimeters of simple shapes, in any unit."""
