"""THE DEMO MERCHANT'S KEYS: PUBLIC DEMO VALUES, PUBLISHED IN THIS REPOSITORY. NEVER USE THEM FOR A REAL MERCHANT.

Like the demo app secret (config.DEMO_SECRET), these let the quick start and the tests reach the emulated WeChat Pay
without credentials. Anyone can read them, so anything signed with them proves nothing: WeChat Pay has never seen
these keys, and a real merchant's private key must never be put here or anywhere in a repository.

- the merchant's API certificate key (商户API证书私钥) and its serial: the client signs its requests with the key,
  the emulator verifies them with its public half, found by the serial;
- the platform key (微信支付公钥) and its id: the emulator signs its answers with it, the client verifies them with
  its public half, named by the id in Wechatpay-Serial.
"""

from __future__ import annotations

# 1230000109: the merchant id in WeChat Pay's own examples (e.g. the 商家券 documents' 示例值).
DEMO_MCHID = "1230000109"
DEMO_MERCHANT_CERT_SERIAL = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
DEMO_PAY_PUBLIC_KEY_ID = "PUB_KEY_ID_0112300001092026010100000000000001"

# PUBLIC DEMO VALUE — the demo merchant's private key (the client side of the emulator's demo merchant).
DEMO_MERCHANT_PRIVATE_KEY = """\
-----BEGIN PRIVATE KEY-----
MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQDbc3uBJSQ7SSTz
te5Cosegi70ZvTDvkRYNMfjrITPaIHjUQzeQa7Foa9SBTmfM0E8zEXHNdakdUVWS
wOFW1uJRfsMimopZ7pw/fOrjl7o9ISVEs7E9pciD4pfU0lQ5rleSK396d2RlMYzN
BeEFZk7JD49RYFEtU35rRm5iVA633rdF+qSRufJs0DTN7ErXcz62E0p4YAwO/jSj
807KFZfzIIN+Dd0hwvU6r/aKWXPO59338SIeyngK1QqNuMaCDvs1mUoCi2dmBbYB
PhSOC/GFfZRzRqW14Cm5s91Lbor0KIHRAq632IggSBATXRedc2xxuj1R8GLpyAXt
GmSnw1sxAgMBAAECggEAQx9b9+Dx55ZUUJzljwk2ESOcx/ontScF/Sw7TEQAFahX
/OjAXpKqFVviCFkAg9N1XhPoYKUsAHUnvPb1FbgtSisBKZzmU2KZ9QtS1yFKDDeO
rChgPpBuN/S/Zw+cRnZOf72BROau1QrmW7GAJcQotfPl7MiOm9QNd2d4DOhUBiXu
nHJj5X9WIcQE0W3ciY6uAt36iXeqSNbUsq9AOBMJfgPaH8GhkRS1lwmTmUqOrGtq
Vt3Uno6B1LxS1dA3AwVYQNFGZaAWTZdIHjdEhQf00EcjZ8iKtRLTd02UNtbz4QWq
Dn0bndL1x2l7zoqfUyNXUoDA/1q+aU8NlprFCp4HHwKBgQDvxTzXPQ1m0mkSa36L
Zh8GaY7YZ4fIjljuj/yfuSmA3Cw3v8pQDp7pkinjL4yHkr//SQFLdVWgr4/xIRAC
tiOv6vbtjYDftOcX8Gmqqg4odbAFH31mQVgaT5GKWyCCHTz54bx3Pl3ve4yjtgtS
o5MeNA1BNacEXHB3mDrH7C32IwKBgQDqTiY4JfyhWcrwLRnwXOLlY6oynTHksoVj
/mTl+h3Of7qnBaz9gemXOpOXh38uG5n5lo+0lYg4+x2Q4dNdU2uyMp/eOv2yN4N5
K6Zyr5rwtMW0Ef9ND6jk0MEjCTF51K9ASab0jJvZudHqoWvf/VxMm7UMthpp33Wr
0vM4XGacmwKBgExvOAH1eHw6vzwcAG830tQcemkKOAL7PeZvCD1yrYRiq8Xp4fi7
cHVNHwVJdycQ5RvgjgUcFnvu+5gGzi/PGHlQEf+QiHDIHpNHFKhPJcxIGCDJ9RPP
6OIaU28jta1E3Ndb2tS4kQFzBVZ7BgkGFDQgq8kJ7YA6Z6/4W2S4Kb65AoGAGhPE
kS85JMQXoA+E+Yl8/0bOZH+2U9vCmNRxal8h/h+dKIWrMTPKSbiNQKol733G705g
hBq4ZI8eRUe8/IASVmzn+hXasoEXMt820UDWH8Ae2OG/5lW92GmbdUjKpuKS9ra7
zC/yEJNr149LsExEf4o85kNGQU5LjGoYA8fU680CgYBlWqlsoyWSuuwZa1TeyR4T
deoWPxxdcqvR20PhFQel+6ri3CVLEUMrUaxBcvFyrIxgjB7IoynCzYWagq029jUE
brcmvW8yFwOYUL5Vm2TrPJJZ62y+0ScJ5d307AvlGYp2rbV32lnEthegn2WNlJEh
QqzI1dF1U60FqeERX2hVsA==
-----END PRIVATE KEY-----
"""

# PUBLIC DEMO VALUE — the emulated WeChat Pay's private key, which signs every answer of the emulator.
DEMO_PLATFORM_PRIVATE_KEY = """\
-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDCyIX+Nk3GKHec
9MFqa0hGk+drlggQpWaaxDs37SLZtZ211wIGlzwbg8g4v9w/neI/Bj/fWLHZo6SR
JQ3zTthpBCvfF0esK/lV0KyZUWVBOb6LTzSITwYwiaxyCbw/Y1oLI4FWI03mCM+j
VGR1ZyfwiIP+ahJ74nHTuKGG5NVxK9GbTvdl3dQ5s3ovIA5dLNGe3de/sMnuS+ji
TpD4mRv8MlCXXhzp0yONDWdAf3Ob2bDr3wsEq3A7ob1xouvse3yUQu2rSj1W40Dt
l81/pjcBI+DkpjDKOHZC+4X3XLhnNTcY7H/VhIPeca8YIsBU7P16iP1U0oZTjan9
M1veEdihAgMBAAECggEAAuotD+6wTEC3xYDOHvF0o+wiE7SR8bnTGfBjMhHzQ9tZ
Y4RQcr8AA1z9+bqfqTelUCvsq1yjtxRUg2cdpdOH605iLHtbM0+qWM1/suc9nI1b
whbqom2LgKqjiqzsBO2ckwhL4hLMkoT1CN/1UhWiMRHB5xefdJYg/bn7qzQw03nK
Xub3a8+aVo1pzU0Lyf7lwm8OFgpfTpQT373WXFKQ5BPNTJnBfY84RdT56x4sAkVX
ZZs0ZArQufnTGk0ImDfrexmbSphLtLkZVPHvBaDkgKlms75uH+c9tH2Q3C3MQljK
OzKm6yyFArJCiV047FatFh+dC4VXQg8+y9a+JmikXwKBgQD2+YNsdYt+/9GD/c+9
oxeQAiWAvIPuE26eTM1GdfoBDWCA0FberpB9EjA+XqgRki9KaDW+zaxynaBy3rjb
ijR9YXKRg91KoMftDktxQQtzUpi334X80y3DH1d097nFLT31LMPOtptgGNTQs/zM
jR+CzFmhUoMYsvuWhVdw02gmGwKBgQDJ5sBqmh7emJLnujc0wkHNE5597zDJwHOO
qGAIw+ZxggVSD5UenaSVV6MXePVyk48UA4sfWzNPld+YzOGiNldCfSkq1/FfWblf
MJgzUtt3tJ/yw7oykqEiQUAMrgVZ/EUNdP/ceO7IP3JqU9FnxRaJiJh2J/SlC6XF
FSZ/5e/X8wKBgQCI5MiqB4VowZd6V+ccMBhRZD8xWkyuW+sGp39ovN/0UVvaSqC8
EXpZOQmwqHr0MlkwHw8bUZlydliHE1jXp4VsseT1L2grg28NwMykW+9i3rdzw9va
xZsp+mdZmC5KUsdy7HskSydYXqsne3x2TQrYTzinKLstp5e4WPScvzGNXQKBgQCh
GattJB7/lJSbrD2CroIcpcvwRpwST6qlKPq/47iL16hxKxfcfwMlWvE6uHx4+P7Q
hGdNFNNjbH4miUx8x4lm90GS+w2Q/KHqL3cydKnD4W9DISQAWHmUQKZft7dzbtSW
gUXrYN9/Dwk3iDvt5hguk7y7gvQ1gY67LD41DX8MOwKBgA8DrA5zuiIOnJb+iH2/
agpBJJFsGlQ+53n7SDYYxT9C/V7mRDrQyMg3/4uBUrSZMAnV5Q+zpSFk5eIUazuv
bWaOkZsWZHh3ABoIld5mSGXcwhfBJl5f2Z7EaFCaKNUljMxxose+lw7X38/dUZYj
Kq/Kx0dy3KTYOFCuDvzZnUBE
-----END PRIVATE KEY-----
"""
