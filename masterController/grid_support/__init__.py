"""Grid services: FCR-N, FCR-D up/down, FFR, LFSM droop, LER energy management, stacking, logging.

Everything but `operation_log` is pure and cheap: it runs in every node's 100 ms fast loop.
"""
