"""WeChat Pay merchant coupons (商家券, busifavor v3): model (the canonical stock, what may change, request numbers,
the record), validate, planning, apply, resource (the kind). Empty here so that base.py can import the model."""
