"""The update runtime: durable inbox, poller, webhook server, rate limiter, logging."""
