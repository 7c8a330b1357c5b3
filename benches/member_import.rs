//! Speed of the member import (`cargo bench --bench member_import`): a CSV
//! of `MAMIS_BENCH_MEMBERS` (10,000) generated members, Shift_JIS as Excel
//! writes it, checked (the dry run: decoding, every row parsed with the
//! registration's parsers, every person looked up, the upload kept) and
//! imported by a 郡市区 association's staff member through the use case, in
//! this process, on a fresh database (release build). The import is one
//! write transaction: accounts, unique keys, person indexes, an audit entry
//! per member and the postcard batch. Then the same file again (every row
//! matched, nothing created). The target is under 10 s for the import. A
//! benchmark reports; it never fails.

use std::time::Instant;

use mamis::{
    auth::{current_user::Account, guards::Staff},
    domain::{Role, StaffRole},
    service::{
        member_import::{self, Checked},
        office,
    },
    store::{Store, associations},
};

const LAST: [&str; 20] = [
    "佐藤",
    "鈴木",
    "高橋",
    "田中",
    "伊藤",
    "渡辺",
    "山本",
    "中村",
    "小林",
    "加藤",
    "吉田",
    "山田",
    "佐々木",
    "山口",
    "松本",
    "井上",
    "木村",
    "林",
    "清水",
    "山崎",
];
const LAST_KANA: [&str; 20] = [
    "サトウ",
    "スズキ",
    "タカハシ",
    "タナカ",
    "イトウ",
    "ワタナベ",
    "ヤマモト",
    "ナカムラ",
    "コバヤシ",
    "カトウ",
    "ヨシダ",
    "ヤマダ",
    "ササキ",
    "ヤマグチ",
    "マツモト",
    "イノウエ",
    "キムラ",
    "ハヤシ",
    "シミズ",
    "ヤマザキ",
];
const FIRST: [&str; 10] = [
    "太郎", "花子", "一郎", "次郎", "恵子", "健", "誠", "裕子", "直樹", "明美",
];
const FIRST_KANA: [&str; 10] = [
    "タロウ",
    "ハナコ",
    "イチロウ",
    "ジロウ",
    "ケイコ",
    "ケン",
    "マコト",
    "ユウコ",
    "ナオキ",
    "アケミ",
];

/// The CSV of `n` members (distinct 医籍登録番号, and distinct 氏名 +
/// 生年月日), UTF-8.
fn members(n: usize) -> String {
    let mut s = String::from(
        "氏名,フリガナ,生年月日,性別,医籍登録番号,医籍登録日,郵便番号,都道府県,住所,建物名,電話番号,会員種別,入会日,所属医師会\r\n",
    );
    for i in 0..n {
        let (l, f) = (i % LAST.len(), (i / LAST.len()) % FIRST.len());
        let day = i / (LAST.len() * FIRST.len());
        let (year, month, dom) = (1950 + day % 40, 1 + day % 12, 1 + day % 28);
        let mobile = if i % 2 == 0 { "090" } else { "03" };
        s.push_str(&format!(
            "{} {},{} {},{year}/{month:02}/{dom:02},{},{:06},{}/04/01,113-8621,東京都,文京区本駒込{}-{},,{mobile}-{:04}-{:04},A①会員,2010/04/01,\r\n",
            LAST[l],
            FIRST[f],
            LAST_KANA[l],
            FIRST_KANA[f],
            if i % 3 == 0 { "女" } else { "男" },
            100_000 + i,
            year + 26,
            1 + i % 9,
            1 + i % 50,
            i % 10_000,
            (i * 7) % 10_000,
        ));
    }
    s
}

fn main() {
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("member import benchmark did not run: {e}");
            return;
        }
    };
    if let Err(e) = rt.block_on(run()) {
        eprintln!("member import benchmark did not run: {e:#}");
    }
}

async fn run() -> anyhow::Result<()> {
    let n: usize = std::env::var("MAMIS_BENCH_MEMBERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path())?;
    let district = office::add_association(&store, "東京都医師会", "新宿区医師会", None)
        .await?
        .map_err(|e| anyhow::anyhow!(e))?;
    let staff = Staff {
        account: Account {
            id: 1,
            login_id: "shinjuku01".into(),
            role: Role::Staff {
                association: district.id,
                role: StaffRole::Clerk,
            },
        },
        association: district.id,
        role: StaffRole::Clerk,
    };
    let _ = store.read(associations::all).await?;
    let text = members(n);
    let (sjis, _, unmappable) = encoding_rs::SHIFT_JIS.encode(&text);
    anyhow::ensure!(!unmappable, "the generated names are all in CP932");
    let bytes = sjis.into_owned();
    println!(
        "member import: {n} members, {:.2} MB Shift_JIS",
        bytes.len() as f64 / 1e6
    );

    let t = Instant::now();
    let checked = member_import::dry_run(&store, &staff, "members.csv", &bytes).await?;
    let dry_secs = t.elapsed().as_secs_f64();
    let Checked::Rows(dry) = checked else {
        anyhow::bail!("the generated file was not readable");
    };
    anyhow::ensure!(
        dry.refused() == 0,
        "generated rows refused: {:?}",
        dry.rows.iter().find(|r| r.outcome.label() == "エラー")
    );
    let reference = dry
        .reference
        .clone()
        .ok_or_else(|| anyhow::anyhow!("no reference"))?;
    println!(
        "dry run:          {dry_secs:>7.2} s  ({} to create)",
        dry.to_create()
    );

    let t = Instant::now();
    let imported = member_import::import(&store, &staff, &reference).await?;
    let import_secs = t.elapsed().as_secs_f64();
    let created = match imported {
        member_import::Imported::Done { created, .. } => created,
        other => anyhow::bail!("import refused: {other:?}"),
    };
    println!(
        "import:           {import_secs:>7.2} s  ({created} created, one write transaction; target < 10 s)"
    );

    let t = Instant::now();
    let again = member_import::dry_run(&store, &staff, "members.csv", &bytes).await?;
    let again_secs = t.elapsed().as_secs_f64();
    if let Checked::Rows(d) = again {
        println!(
            "same file again:  {again_secs:>7.2} s  (dry run: {} matched, {} to create)",
            d.matched(),
            d.to_create()
        );
    }
    let size = std::fs::metadata(dir.path().join(mamis::store::DB_FILE))?.len();
    println!("database after:   {:.1} MB", size as f64 / 1e6);
    Ok(())
}
