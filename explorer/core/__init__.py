"""The numpy/scipy core: the model contract, the variational identity, families and sessions.

Never imports panel, holoviews or bokeh.
"""
