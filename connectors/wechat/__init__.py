"""The WeChat Official Account channel (微信公众号): the callback URL, passive replies within WeChat's five
seconds, customer-service messages (客服消息) for 48 hours after the citizen's last message, and template
messages (模板消息) for case updates after that."""
