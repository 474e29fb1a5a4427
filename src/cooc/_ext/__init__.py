"""The compiled kernels, one concern per module; ``cooc._backend`` is the only module that imports them."""
