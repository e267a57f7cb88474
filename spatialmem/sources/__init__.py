"""Frame sources: synthetic scene folders, RGB-D folders (ScanNet layout), video files, image folders."""
