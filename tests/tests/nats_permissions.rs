//! Who may do what on NATS: a private nats-server runs deploy/nats/auth.conf (the users and
//! permissions of scripts/platform and compose), and each user tries what it must not do.
//!
//! A refused publish gets no PubAck; the server reports a permissions violation to the client,
//! and the stream is unchanged (read back as admin). Streams are provisioned as admin under a
//! prefix of the test's own, as every deployment's are.

use e2e::secured_nats::{SecuredNats, WatchedClient};
use std::time::Duration;
use tv_nats::{EventStore, FollowFrom, Naming, Stream};

async fn server() -> Option<SecuredNats> {
    let server = SecuredNats::start().await;
    if server.is_none() {
        eprintln!(
            "SKIPPED: the pinned nats-server is not installed at .tools/nats-{}/bin/nats-server; \
             ./scripts/test installs it (scripts/lib/infra.sh)",
            e2e::process::NATS_SERVER_VERSION
        );
    }
    server
}

/// The streams under a fresh prefix, provisioned as admin, and that admin store.
async fn provisioned(nats: &SecuredNats) -> EventStore {
    let store = EventStore::connect(&nats.url_as("admin"), Naming::new(&e2e::unique_prefix()))
        .await
        .expect("connecting as admin");
    store.provision().await.expect("provisioning as admin");
    store
}

async fn last(admin: &EventStore, stream: Stream) -> u64 {
    admin.last_sequence(stream).await.expect("reading as admin")
}

/// `user` publishes to `subject`: refused (no PubAck, a permissions violation) and not stored.
async fn assert_append_refused(
    nats: &SecuredNats,
    admin: &EventStore,
    user: &str,
    stream: Stream,
    id: &str,
) {
    let client = nats.client_as(user).await;
    let subject = admin.naming().subject(stream, id);
    let before = last(admin, stream).await;
    assert_eq!(
        client.append(&subject, "{}").await,
        None,
        "{user} appended to {subject}"
    );
    assert!(
        client.was_refused(&subject).await,
        "{user}: no permissions violation for {subject}; server log:\n{}",
        nats.log_tail(20)
    );
    assert_eq!(last(admin, stream).await, before, "{subject} was stored");
}

#[tokio::test]
async fn a_client_without_a_user_or_with_a_wrong_password_is_refused() {
    let Some(nats) = server().await else { return };
    let anonymous = async_nats::ConnectOptions::new().connect(nats.url()).await;
    assert!(
        anonymous.is_err(),
        "an anonymous client connected to the server with users"
    );
    let wrong = format!("nats://feed:not-the-password@127.0.0.1:{}", nats.port);
    let Err(error) = tv_nats::connect(&wrong).await else {
        panic!("a wrong password was accepted");
    };
    let message = error.to_string();
    assert!(message.contains("refused"), "{message}");
    assert!(!message.contains("not-the-password"), "{message}");
    for user in nats.users() {
        tv_nats::connect(&nats.url_as(user))
            .await
            .unwrap_or_else(|e| panic!("{user} with its password: {e}"));
    }
}

#[tokio::test]
async fn the_feed_user_reads_the_streams_but_appends_deletes_and_purges_nothing() {
    let Some(nats) = server().await else { return };
    let admin = provisioned(&nats).await;
    let command = nats.client_as("command").await;
    let order = admin.naming().subject(Stream::Orders, "o-1");
    assert_eq!(command.append(&order, "{}").await, Some(1));

    // It reads: stream info, a direct get, an ordered consumer of its own (on its own inbox).
    let feed = EventStore::connect(&nats.url_as("feed"), admin.naming().clone())
        .await
        .expect("connecting as feed");
    assert_eq!(feed.last_sequence(Stream::Orders).await.unwrap(), 1);
    let mut following = feed
        .follow(Stream::Orders, FollowFrom::Sequence(1))
        .await
        .expect("feed follows a stream");
    let first = tokio::time::timeout(Duration::from_secs(5), following.next())
        .await
        .expect("the feed's consumer delivered within 5 s")
        .expect("a delivery");
    assert_eq!(
        (first.subject.as_str(), first.sequence),
        (order.as_str(), 1)
    );
    // A started feed, as a service starts: nothing to provision, nothing refused.
    feed.provision()
        .await
        .expect("provisioned streams need no rights");

    assert_append_refused(&nats, &admin, "feed", Stream::Orders, "o-2").await;
    assert_append_refused(&nats, &admin, "feed", Stream::Catalog, "e-1").await;

    let client = nats.client_as("feed").await;
    let name = admin.naming().stream(Stream::Orders);
    for (api, payload) in [
        (format!("$JS.API.STREAM.DELETE.{name}"), ""),
        (format!("$JS.API.STREAM.PURGE.{name}"), "{}"),
        (format!("$JS.API.STREAM.MSG.DELETE.{name}"), r#"{"seq":1}"#),
        (format!("$JS.API.STREAM.UPDATE.{name}"), "{}"),
    ] {
        assert_eq!(client.request(&api, payload).await, None, "feed: {api}");
        assert!(client.was_refused(&api).await, "no violation for {api}");
    }
    assert_eq!(
        last(&admin, Stream::Orders).await,
        1,
        "the orders were changed"
    );
}

#[tokio::test]
async fn readers_cannot_append_and_no_user_reads_another_users_inbox() {
    let Some(nats) = server().await else { return };
    let admin = provisioned(&nats).await;
    for user in ["projector", "notifier", "query"] {
        assert_append_refused(&nats, &admin, user, Stream::Orders, "o-1").await;
        assert_append_refused(&nats, &admin, user, Stream::Inventory, "e-1").await;
    }
    let feed: WatchedClient = nats.client_as("feed").await;
    for inbox in ["_INBOX.>", "_INBOX_command.>"] {
        let _subscription = feed.client.subscribe(inbox).await.unwrap();
        feed.client.flush().await.unwrap();
        assert!(feed.was_refused(inbox).await, "feed subscribed to {inbox}");
    }
}

#[tokio::test]
async fn command_appends_to_its_streams_but_not_to_the_waiting_rooms_queue() {
    let Some(nats) = server().await else { return };
    let admin = provisioned(&nats).await;
    let command = nats.client_as("command").await;
    for (stream, id) in [
        (Stream::Catalog, "e-1"),
        (Stream::Inventory, "e-1"),
        (Stream::Orders, "o-1"),
        (Stream::Payments, "p-1"),
    ] {
        let subject = admin.naming().subject(stream, id);
        assert_eq!(command.append(&subject, "{}").await, Some(1), "{subject}");
    }
    assert_append_refused(&nats, &admin, "command", Stream::Queue, "e-1.room").await;

    // The waiting room is the other way round.
    let room = nats.client_as("waiting-room").await;
    let queue = admin.naming().subject(Stream::Queue, "e-1.room");
    assert_eq!(room.append(&queue, "{}").await, Some(1));
    assert_append_refused(&nats, &admin, "waiting-room", Stream::Orders, "o-2").await;
}

#[tokio::test]
async fn the_notifier_publishes_dead_letters_and_appends_to_no_stream_of_record() {
    let Some(nats) = server().await else { return };
    let admin = provisioned(&nats).await;
    let notifier = nats.client_as("notifier").await;
    let dead = admin.naming().subject(Stream::DeadLetter, "notices");
    assert_eq!(notifier.append(&dead, "{}").await, Some(1), "{dead}");
    assert_append_refused(&nats, &admin, "notifier", Stream::Payments, "p-1").await;
    for user in ["projector", "query", "feed"] {
        assert_append_refused(&nats, &admin, user, Stream::DeadLetter, "notices").await;
    }
}

#[tokio::test]
async fn only_command_takes_leases_and_forwards_commands_between_its_instances() {
    let Some(nats) = server().await else { return };
    let admin = provisioned(&nats).await;
    tv_nats::Leases::open(&admin)
        .await
        .expect("the lease bucket, created as admin");
    let naming = admin.naming().clone();

    // Two command-svc instances: one claims, renews and releases an event's lease, and takes the
    // commands the other forwards; its answer reaches the asking instance's inbox.
    let owner = EventStore::connect(&nats.url_as("command"), naming.clone())
        .await
        .expect("connecting as command");
    let asking = EventStore::connect(&nats.url_as("command"), naming.clone())
        .await
        .expect("connecting as command");
    let leases = tv_nats::Leases::open(&owner)
        .await
        .expect("command opens the lease bucket");
    let tv_nats::Claim::Ours { revision } = leases.claim("e-1", "owner").await.unwrap() else {
        panic!("the first claim was refused");
    };
    let revision = leases.renew("e-1", "owner", revision).await.unwrap();
    let revision = revision.expect("the owner renews its lease");
    leases.release("e-1", revision).await.unwrap();
    let subject = naming.forward_subject("owner");
    let mut requests = owner.take_requests(subject.clone()).await.unwrap();
    owner.client().flush().await.unwrap();
    let answering = tokio::spawn(async move {
        let request = requests.next().await.expect("a forwarded command");
        assert_eq!(request.payload, b"hold".to_vec());
        request.answer(b"held".to_vec()).await.expect("answering");
    });
    // The owner's subscription is on another connection: on a loaded machine the server may
    // answer "no responders" for a moment after it is made, as it would to a real instance.
    let mut attempts = 0;
    let answer = loop {
        attempts += 1;
        match asking
            .request(subject.clone(), b"hold".to_vec(), Duration::from_secs(2))
            .await
        {
            Ok(answer) => break answer,
            Err(e) if attempts < 10 => {
                eprintln!("forwarding attempt {attempts}: {e:?}; again");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("the owner's answer: {e:?}"),
        }
    };
    assert_eq!(answer, b"held".to_vec());
    answering.await.unwrap();

    // Nobody else may take the forwarded commands, send one, or touch a lease.
    let lease_subject = format!("$KV.{}.e-2", naming.lease_bucket());
    for user in ["projector", "notifier", "query", "waiting-room", "feed"] {
        let client = nats.client_as(user).await;
        let _subscription = client.client.subscribe(subject.clone()).await.unwrap();
        client.client.flush().await.unwrap();
        assert!(
            client.was_refused(&subject).await,
            "{user} took commands forwarded to command-svc"
        );
        let elsewhere = naming.forward_subject("another");
        client
            .client
            .publish(elsewhere.clone(), "hold".into())
            .await
            .unwrap();
        client.client.flush().await.unwrap();
        assert!(
            client.was_refused(&elsewhere).await,
            "{user} forwarded a command"
        );
        assert_eq!(
            client.append(&lease_subject, "someone").await,
            None,
            "{user} claimed a lease"
        );
        assert!(
            client.was_refused(&lease_subject).await,
            "{user}: no permissions violation for {lease_subject}"
        );
    }
}
