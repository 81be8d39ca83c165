mod support;

#[tokio::test]
async fn a_member_who_joins_gets_a_prompt_at_the_check_in_time() {
    let mut ws = support::console("2026-11-29T12:00").await;
    let out = ws
        .run("/as alice\n/in #team\n/pulse setup\n/as bob\n/pulse join\n/clock next mon 10:00")
        .await;
    let dms: Vec<_> = support::to(&out, "bob")
        .into_iter()
        .filter(|l| l.contains("(dm)"))
        .collect();
    assert_eq!(dms.len(), 1, "{out:#?}");
    assert!(support::button_for(&out, "bob", "Stretched").is_some());
}
