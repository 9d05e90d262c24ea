"""The presentation layer: one module per audience, and one feature declaration each.

The features and the order of handler groups are assembled in ``bot.app``.
"""
