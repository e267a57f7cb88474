"""Pure-numpy geometry: boxes, directions, poses, projection, point clouds, floor and room extent."""
