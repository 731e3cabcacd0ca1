"""The chat route functions: handlers (thin) over logic, one data-access layer and one fan-out module."""
