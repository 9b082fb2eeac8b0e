//! `ConstantStore`: nothing stored, one default replay id for every channel.

use sfstream_store::{ConstantStore, ReplayStore};

#[test]
fn loads_nothing_and_ignores_saves() {
    let store = ConstantStore::new(-1);
    assert!(store.load().unwrap().is_empty());
    store.save("/event/Order__e", 2112).unwrap();
    store
        .save_many(&[("/event/A".to_owned(), 1), ("/event/B".to_owned(), 2)])
        .unwrap();
    store.remove("/event/Order__e").unwrap();
    assert!(store.load().unwrap().is_empty());
}

#[test]
fn default_replay_id_is_the_constant() {
    for id in [-2, -1, 0, 2112, i64::MAX] {
        let store = ConstantStore::new(id);
        assert_eq!(store.constant(), id);
        assert_eq!(store.default_replay_id(), Some(id));
    }
}

#[test]
fn usable_in_const_context() {
    const ALL_RETAINED: ConstantStore = ConstantStore::new(-2);
    assert_eq!(ALL_RETAINED.constant(), -2);
}

#[test]
fn topic_ids_are_neither_stored_nor_loaded() {
    let store = ConstantStore::new(-2);
    store.save_topic("/event/Order__e", &[1, 2, 3]).unwrap();
    store
        .save_topics(&[("/event/A__e".to_owned(), vec![1])])
        .unwrap();
    store.remove_topic("/event/Order__e").unwrap();
    assert!(store.load_topics().unwrap().is_empty());
}
