from django.contrib import admin
from django.urls import include, path

from registration import views

urlpatterns = [
    path("register", views.terms, name="terms"),
    path("register/check/login_id", views.check_login_id, name="check_login_id"),
    path("suggest/<str:catalogue>", views.suggest, name="suggest"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]
