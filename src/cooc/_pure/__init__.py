"""The pure-Python twins of the compiled kernels in ``cooc._ext``: same modules, names, signatures,
docstrings and output dtypes. ``cooc._backend`` is the only module that imports them."""
