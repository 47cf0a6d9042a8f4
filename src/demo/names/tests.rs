use super::*;

#[test]
fn pool_is_valid_and_deterministic() {
    let pool = user_pool(42);
    assert_eq!(pool.len(), POOL_SIZE);
    assert_eq!(pool, user_pool(42));
    assert_ne!(pool, user_pool(43));
    let ids: HashSet<_> = pool.iter().map(|u| &u.id).collect();
    let handles: HashSet<_> = pool.iter().map(|u| &u.username).collect();
    assert_eq!(ids.len(), POOL_SIZE);
    assert_eq!(handles.len(), POOL_SIZE);
    for u in &pool {
        assert!((9..=19).contains(&u.id.len()), "{}", u.id);
        assert!(u.id.bytes().all(|b| b.is_ascii_digit()));
        assert!(!u.id.starts_with('0'));
        assert!(
            !u.username.is_empty() && u.username.len() <= 15,
            "{}",
            u.username
        );
        assert!(
            u.username
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        );
        assert!(!u.name.is_empty());
    }
    let verified = pool.iter().filter(|u| u.verified).count();
    assert!((20..=60).contains(&verified), "{verified} verified");
    assert!(
        pool.iter().any(|u| !u.name.is_ascii()),
        "some non-ASCII names"
    );
}

#[test]
fn titles_cover_escaping_and_unicode() {
    let mut amp = false;
    let mut lt = false;
    let mut quote = false;
    let mut non_ascii = false;
    for i in 0..2000u64 {
        let d = Dice::new(1, &[i]);
        let lang = pick_lang(&d, 99);
        let t = title(&d, (i % 7) as usize, lang);
        assert!(!t.contains('{'), "unfilled template: {t}");
        assert!(!t.starts_with(|c: char| c.is_ascii_lowercase()), "{t}");
        amp |= t.contains('&');
        lt |= t.contains('<');
        quote |= t.contains('"') || t.contains('\'');
        non_ascii |= !t.is_ascii();
    }
    assert!(amp && lt && quote && non_ascii);
}

#[test]
fn topics_lookup() {
    assert_eq!(topic_by_id_or_name("848920371311001600"), Some(0));
    assert_eq!(topic_by_id_or_name("music"), Some(2));
    assert_eq!(topic_by_id_or_name("ENTERTAINMENT"), Some(6));
    assert_eq!(topic_by_id_or_name("cooking"), None);
}

#[test]
fn synthetic_listeners_are_valid() {
    for j in 0..200 {
        let (id, username, name) = synthetic_listener(5, 9, j);
        assert_eq!(id.len(), 19);
        assert!(username.len() <= 15, "{username}");
        assert!(!name.is_empty());
    }
}
