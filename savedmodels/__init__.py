"""Pretrained artifacts of the keras_gans zoo (installed as `keras_gans.savedmodels`).

`manifest.json` indexes them; `keras_gans.registry` reads it.
"""
