"""Structure from motion on plain RGB (the ``sfm`` geometry backend, pycolmap): keyframes, reconstruction
of overlapping chunks, chunk alignment, pose interpolation and sparse depth (see :mod:`.backend`)."""
