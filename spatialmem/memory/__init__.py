"""The spatial memory: lift, associate/fuse, working + episodic memory, the SceneMemory snapshot, storage."""
