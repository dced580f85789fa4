"""WeChat API client."""
