//! 代行入力 of a 異動届: staff file a member's 記録の変更, 会員種別の変更 or
//! 所属医師会の移動 from a paper form or at the counter
//! (`/office/people/:id/change?what=record|class|transfer`), with its 受付方法
//! (紙 / 窓口). The fields and their parsing are the 異動届 form of マイページ
//! (`my_change::what_fields`, `ChangeForm`), the JMA class answered by the
//! office's endpoint. A person outside the staff member's scope is answered
//! with the 404 page. No 確認 step: the form is a transcription.

use maud::{Markup, html};
use poem::{
    IntoResponse, Response, handler,
    http::StatusCode,
    web::{CsrfToken, Data, Form, Path, Query},
};
use serde::Deserialize;

use super::{
    my_change::{self, ChangeForm, Mine, What},
    my_filing::{ProcErrors, errors_markup, field_message, pick},
    office_proxy::{INTAKES, file_on_behalf, intake_of, name_of},
    office_proxy_join,
};
use crate::{
    auth::guards::Staff,
    error::not_found,
    state::AppState,
    views::layout::{csrf_input, page as layout},
    web::office_history::person_path,
};

/// The form of person `id`.
pub fn change_path(id: u64) -> String {
    format!("{}/change", person_path(id))
}

/// What the page shows besides the form's answers.
struct View<'a> {
    csrf: &'a str,
    id: u64,
    name: &'a str,
    intake: &'a str,
    m: &'a Mine,
    errors: &'a ProcErrors,
}

fn page(v: &View, f: &ChangeForm) -> Markup {
    let View {
        csrf,
        id,
        name,
        intake,
        m,
        errors,
    } = v;
    let title = match f.what {
        Some(w) => format!("異動届（{}）の代行入力（{name}）", w.label()),
        None => format!("異動届の代行入力（{name}）"),
    };
    let body = html! {
        section.card aria-labelledby="proxy-title" {
            h1 #proxy-title { (title) }
            p { a href=(person_path(*id)) { "← 利用者情報に戻る" } }
            p { "紙の異動届や窓口での届出を、ご本人に代わって入力します。入力した申請は、ご本人が申請した場合と同じく各医師会の承認を経て完了します。" }
            (errors_markup(errors))
            @match f.what {
                None => {
                    h2 { "異動の種類" }
                    ul.linklist {
                        @for w in What::ALL {
                            li { a href={ (change_path(*id)) "?what=" (w.key()) } { (w.label()) " →" } }
                        }
                    }
                }
                Some(what) => {
                    form method="post" action=(change_path(*id)) novalidate {
                        (csrf_input(csrf))
                        fieldset.field #intake aria-invalid=[errors.invalid("intake")] aria-describedby="m-intake" {
                            legend { "受付方法" span.req { "必須" } }
                            @for (key, i) in INTAKES {
                                label { input type="radio" name="intake" value=(key) checked[*intake == key]; " " (i.label()) }
                            }
                            (field_message(errors, "intake"))
                        }
                        (my_change::what_fields(f, what, m, errors, office_proxy_join::CLASS))
                        div.actions { button type="submit" { "代行入力で申請する" } }
                    }
                    p { a href=(change_path(*id)) { "異動の種類を選び直す" } }
                }
            }
        }
    };
    layout(&title, Some(csrf), body)
}

#[derive(Debug, Default, Deserialize)]
pub struct WhatQuery {
    #[serde(default)]
    what: String,
}

#[handler]
pub async fn form(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    staff: Staff,
    Path(id): Path<u64>,
    Query(q): Query<WhatQuery>,
) -> poem::Result<Response> {
    let name = name_of(&state, &staff, id).await?;
    let Some(mine) = my_change::mine(&state, id).await? else {
        return Err(not_found());
    };
    let f = ChangeForm::fresh(What::from_key(&q.what), &mine);
    let view = View {
        csrf,
        id,
        name: &name,
        intake: "paper",
        m: &mine,
        errors: &ProcErrors::default(),
    };
    Ok(page(&view, &f).into_response())
}

/// Files the 異動届 and shows the application, or the form again with
/// the messages and the values.
#[handler]
pub async fn submit(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    staff: Staff,
    Path(id): Path<u64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> poem::Result<Response> {
    let name = name_of(&state, &staff, id).await?;
    let Some(mine) = my_change::mine(&state, id).await? else {
        return Err(not_found());
    };
    let intake_key = pick(&pairs, "intake").trim().to_owned();
    let f = ChangeForm::from_pairs(&pairs, &mine);
    let mut errors = ProcErrors::default();
    let intake = intake_of(&intake_key);
    if intake.is_none() {
        errors.insert("intake", "受付方法", "受付方法を選んでください。");
    }
    let filing = match f.filing(&mine) {
        Ok(filing) => Some(filing),
        Err(p) => {
            errors.merge(p);
            None
        }
    };
    let refuse = |errors: &ProcErrors| {
        let view = View {
            csrf,
            id,
            name: &name,
            intake: &intake_key,
            m: &mine,
            errors,
        };
        page(&view, &f)
            .with_status(StatusCode::UNPROCESSABLE_ENTITY)
            .into_response()
    };
    let (Some(intake), Some(filing), true) = (intake, filing, errors.is_empty()) else {
        return Ok(refuse(&errors));
    };
    match file_on_behalf(&state, &staff, id, intake, filing).await? {
        Ok(done) => Ok(done),
        Err(r) => Ok(refuse(&ProcErrors::of_form(r.message()))),
    }
}
