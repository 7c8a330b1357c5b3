import re

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from .text import halfwidth

LOGIN_ID = re.compile(r"[A-Za-z0-9%!@#&]{8,32}")
PASSWORD = re.compile(r"[A-Za-z0-9!@%&#]{8,128}")
PASSWORD_SYMBOLS = set("!@%&#")


class LoginIdCheckForm(forms.Form):
    """The login ID and password of the registration form, checked as the
    person types: MAMIS's format rules (ログインID: 半角英数字と % ! @ # &,
    8–32 文字; パスワード: 英字・数字・記号をすべて使い 8 文字以上) and, for the
    password, Django's password validators (AUTH_PASSWORD_VALIDATORS:
    similarity to the login ID, length, the common-password list, all-numeric)."""

    login_id = forms.CharField(
        max_length=100,
        error_messages={"required": "ログインIDを入力してください。"},
    )
    password = forms.CharField(required=False, strip=False, max_length=200)

    def clean_login_id(self):
        login_id = halfwidth(self.cleaned_data["login_id"])
        if not LOGIN_ID.fullmatch(login_id):
            raise ValidationError("ログインIDの形式が正しくありません。", code="format")
        return login_id

    def clean_password(self):
        password = halfwidth(self.cleaned_data["password"])
        if not password:
            return password
        if not (
            PASSWORD.fullmatch(password)
            and any(c.isalpha() for c in password)
            and any(c.isdigit() for c in password)
            and any(c in PASSWORD_SYMBOLS for c in password)
        ):
            raise ValidationError("パスワードの形式が正しくありません。", code="format")
        login_id = self.cleaned_data.get("login_id")
        if login_id and password.lower() == login_id.lower():
            raise ValidationError(
                "パスワードにログインIDと同じ文字列は使用できません。", code="same_as_login_id"
            )
        user = get_user_model()(username=login_id or "")
        validate_password(password, user=user)
        return password
