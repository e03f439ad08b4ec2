"""The phone's role: the link to the glasses over bleak (link.py: Phone, an Endpoint),
the session in asyncio (driver.py), offload RPC (rpc.py), the host service (service.py),
the control endpoint for a second terminal (control.py), plugins, views, and what the CLI
asks of the glasses (ops.py, client.py)."""
