"""Channels: each turns a rendered message into one send to one receiver and reads its answer."""
