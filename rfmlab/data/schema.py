"""The canonical transaction schema every loader produces and every later stage reads.

One row is one transaction line (an invoice line or a trade):

- ``customer_id`` (str): who bought.
- ``invoice_id`` (str, never null): groups lines into one purchase; frequency counts distinct invoices.
  A line without one is a purchase of its own (loaders give it ``#row<n>``).
- ``timestamp`` (datetime): when.
- ``amount`` (float): the line's value, negative for a return line.
- ``is_return`` (bool): a cancellation / return line.
"""

import polars as pl

CUSTOMER = "customer_id"
INVOICE = "invoice_id"
TIMESTAMP = "timestamp"
AMOUNT = "amount"
IS_RETURN = "is_return"
PRICE = "price"

CANONICAL_SCHEMA: dict[str, pl.DataType] = {
    CUSTOMER: pl.String(),
    INVOICE: pl.String(),
    TIMESTAMP: pl.Datetime("us"),
    AMOUNT: pl.Float64(),
    IS_RETURN: pl.Boolean(),
}

# The customer table (features.rfm output) in column order.
CUSTOMER_COLUMNS = [
    "customer_id",
    "recency",
    "frequency",
    "monetary",
    "tenure_days",
    "avg_order_value",
    "return_rate",
]
FEATURE_COLUMNS = CUSTOMER_COLUMNS[1:]
# customer lifetime value (clv.enabled, a log only): P(alive), expected purchases and spend over clv.horizon_days,
# discounted value over clv.horizon_months; after the RFM columns in the customer table
CLV_COLUMNS = ["p_alive", "expected_purchases", "expected_spend", "clv"]
