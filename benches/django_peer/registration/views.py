"""The two endpoints the benchmark compares with MAMIS, and the terms page
that gives a visitor a session (and the CSRF cookie) first.

- `POST /register/check/login_id`: the inline (htmx) check of the login ID,
  with the password's message out of band, as MAMIS answers it. Whether the
  login ID is taken is looked up only for a session that has verified its
  e-mail address (MAMIS: a session that opened a mailed link); the
  benchmark's visitor has only agreed to the terms, as in MAMIS's benchmark.
- `GET /suggest/<catalogue>?<input>=<query>`: the suggestion list of
  出身校 (`school`), 大学院 (`university`) or 所属学会 (`society`), partial match
  over names, readings, aliases and former names, best first, at most 12.
"""
from django.contrib.auth import get_user_model
from django.db.models import Case, IntegerField, Q, Value, When
from django.http import HttpResponseBadRequest, HttpResponseNotFound
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .forms import LoginIdCheckForm
from .models import School, Society
from .text import search_key

SESSION_KEY = "registration"
SUGGESTION_LIMIT = 12
LOGIN_ID_TAKEN = "このログインIDは既に使用されています。"


@require_http_methods(["GET", "POST"])
def terms(request):
    """利用規約: agreeing starts the registration in the session."""
    if request.method == "POST" and request.POST.get("agree") == "yes":
        request.session[SESSION_KEY] = {"agreed": True}
        return redirect("terms", permanent=False)
    agreed = request.session.get(SESSION_KEY, {}).get("agreed", False)
    return render(request, "registration/terms.html", {"agreed": agreed})


@require_POST
def check_login_id(request):
    registration = request.session.get(SESSION_KEY, {})
    form = LoginIdCheckForm(request.POST)
    form.is_valid()
    login_id_errors = list(form.errors.get("login_id", []))
    if (
        not login_id_errors
        and registration.get("verified_email")
        and get_user_model()
        .objects.filter(username__iexact=form.cleaned_data["login_id"])
        .exists()
    ):
        login_id_errors.append(LOGIN_ID_TAKEN)
    context = {
        "login_id_error": login_id_errors[0] if login_id_errors else None,
        "show_password": bool(request.POST.get("password")),
        "password_error": (form.errors.get("password") or [None])[0],
    }
    return render(request, "registration/check_login_id.html", context)


CATALOGUES = {
    # name: (model, catalogue filter, input name, suffix shown, offer typed text)
    "school": (School, {"catalogue": School.MEDICAL_SCHOOLS}, "school", " 医学部", False),
    "university": (
        School,
        {"catalogue": School.UNIVERSITIES},
        "grad_university",
        "",
        False,
    ),
    "society": (Society, {}, "society_query", "", True),
}


def _former_note(entry, key):
    """旧称「…」（YYYY年M月に名称変更） when only a former name matched."""
    if key in entry.search_name or any(key in k for k in entry.own_keys()):
        return None
    for former_key, name, until in entry.former_keys():
        if key in former_key:
            year, _, month = until.partition("-")
            when = f"{year}年{int(month)}月" if month else f"{year}年"
            return f"旧称「{name}」（{when}に名称変更）"
    return None


@require_GET
def suggest(request, catalogue):
    try:
        model, scope, input_name, suffix, offer_typed = CATALOGUES[catalogue]
    except KeyError:
        return HttpResponseNotFound()
    query = request.GET.get(input_name, "").strip()
    if len(query) > 100:
        return HttpResponseBadRequest()
    key = search_key(query)
    hits = []
    if key:
        line_starts = Q(search_other__startswith=key) | Q(search_other__contains="\n" + key)
        hits = list(
            model.objects.filter(**scope)
            .filter(Q(search_name__contains=key) | Q(search_other__contains=key))
            .annotate(
                rank=Case(
                    When(search_name__startswith=key, then=Value(0)),
                    When(search_name__contains=key, then=Value(1)),
                    When(line_starts, then=Value(2)),
                    default=Value(3),
                    output_field=IntegerField(),
                )
            )
            .order_by("rank", "position")[:SUGGESTION_LIMIT]
        )
        for hit in hits:
            hit.former_note = _former_note(hit, key) if hit.rank >= 2 else None
    exact = any(hit.search_name == key for hit in hits)
    context = {
        "list_id": f"{input_name}-list",
        "hits": hits,
        "suffix": suffix,
        "query": query,
        "typed": offer_typed and query and not exact and len(query) <= 40,
    }
    return render(request, "registration/suggestions.html", context)
