"""Registry (monitoring): regions, households, persons, cadres and pairings."""
