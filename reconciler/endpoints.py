"""WeChat's and WeChat Pay's own API addresses: a module of their own, so that what only names them (the CLI's
option defaults, a run without a merchant) loads neither http client."""

WECHAT_API = "https://api.weixin.qq.com"
WECHAT_PAY_API = "https://api.mch.weixin.qq.com"
