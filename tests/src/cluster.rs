//! A three-node NATS cluster of a test's own on loopback: the pinned nats-server, routes between the
//! nodes, JetStream on each, every node in a scratch directory. A test can `kill -9` a node, start
//! it again on the same ports and store, freeze it (SIGSTOP, a partition as its peers see it) and
//! thaw it, and ask the monitoring endpoint which node leads the JetStream meta group or a stream.
//!
//! Open (no users), like [`crate::process::PrivateNats`]: the cluster is the test's alone, on
//! 127.0.0.1 only. `scripts/lib/infra.sh` (`start_nats_cluster`) starts the same shape with users.

use crate::process::{
    free_port, log_tail, nats_server_binary, wait_for_port, ChildProcess, ScratchDir,
};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// One node: its ports and store, and the process while it runs.
struct Node {
    name: String,
    client_port: u16,
    monitor_port: u16,
    config: PathBuf,
    log: PathBuf,
    process: Option<ChildProcess>,
}

/// The cluster; dropping it kills every node before the store directories go.
pub struct NatsCluster {
    binary: PathBuf,
    nodes: Vec<Node>,
    _scratch: ScratchDir,
}

impl NatsCluster {
    /// Starts `size` nodes and waits until JetStream has a meta leader; `None` when the pinned
    /// nats-server is not installed (`./scripts/test` installs it).
    pub async fn start(size: usize) -> Option<Self> {
        let binary = nats_server_binary()?;
        let scratch = ScratchDir::new("nats-cluster");
        let route_ports: Vec<u16> = (0..size).map(|_| free_port()).collect();
        let routes: Vec<String> = route_ports
            .iter()
            .map(|port| format!("nats-route://127.0.0.1:{port}"))
            .collect();
        let nodes = (0..size)
            .map(|i| {
                let name = format!("n{}", i + 1);
                let dir = scratch.path().join(&name);
                std::fs::create_dir_all(&dir).expect("a node directory");
                let (client_port, monitor_port) = (free_port(), free_port());
                let config = dir.join("nats.conf");
                std::fs::write(
                    &config,
                    format!(
                        "server_name: {name}\nlisten: 127.0.0.1:{client_port}\n\
                         http: 127.0.0.1:{monitor_port}\nmax_payload: 8MB\n\
                         jetstream {{ store_dir: \"{}\" }}\n\
                         cluster {{\n  name: tv-test\n  listen: 127.0.0.1:{}\n  routes: [{}]\n}}\n",
                        dir.join("jetstream").display(),
                        route_ports[i],
                        routes.join(", ")
                    ),
                )
                .expect("writing a node's config");
                Node {
                    name,
                    client_port,
                    monitor_port,
                    config,
                    log: dir.join("nats.log"),
                    process: None,
                }
            })
            .collect();
        let mut cluster = Self {
            binary,
            nodes,
            _scratch: scratch,
        };
        for i in 0..size {
            cluster.start_node(i).await;
        }
        let leader = crate::eventually(Duration::from_secs(30), || async {
            cluster.meta_leader().await
        })
        .await;
        assert!(
            leader.is_some(),
            "the cluster elected no JetStream meta leader within 30 s; node n1's log:\n{}",
            log_tail(&cluster.nodes[0].log, 30)
        );
        Some(cluster)
    }

    /// The seed list of every node, as `NATS_URL` takes it.
    pub fn url(&self) -> String {
        self.nodes
            .iter()
            .map(|n| format!("nats://127.0.0.1:{}", n.client_port))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The names of the nodes (`n1`, `n2`, …), as the cluster reports its leaders.
    pub fn names(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.name.clone()).collect()
    }

    /// The index of the node named `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }

    /// Starts node `i` (again) on its ports and store.
    pub async fn start_node(&mut self, i: usize) {
        let node = &mut self.nodes[i];
        assert!(node.process.is_none(), "{} is still running", node.name);
        let mut command = Command::new(&self.binary);
        command.arg("-c").arg(&node.config);
        let mut process = ChildProcess::spawn(&node.name, command, &node.log);
        let addr: SocketAddr = ([127, 0, 0, 1], node.client_port).into();
        if !wait_for_port(addr, Duration::from_secs(15)).await {
            panic!(
                "node {} did not listen on {addr} within 15 s (running: {}); its log:\n{}",
                node.name,
                process.is_running(),
                process.log_tail(30)
            );
        }
        node.process = Some(process);
    }

    /// `kill -9` node `i`.
    pub fn kill_node(&mut self, i: usize) {
        if let Some(mut process) = self.nodes[i].process.take() {
            process.kill();
        }
    }

    /// Freezes node `i` (SIGSTOP): its connections stay open but nothing answers, as across a
    /// partition.
    pub fn freeze_node(&self, i: usize) {
        self.signal(i, "-STOP");
    }

    /// Thaws a frozen node (SIGCONT).
    pub fn thaw_node(&self, i: usize) {
        self.signal(i, "-CONT");
    }

    fn signal(&self, i: usize, signal: &str) {
        let pid = self.nodes[i]
            .process
            .as_ref()
            .and_then(ChildProcess::id)
            .unwrap_or_else(|| panic!("{} is not running", self.nodes[i].name));
        let status = Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .expect("running kill");
        assert!(status.success(), "kill {signal} {pid} failed");
    }

    /// The JetStream meta leader's name, asked of the running nodes' monitoring endpoints.
    pub async fn meta_leader(&self) -> Option<String> {
        for node in self.nodes.iter().filter(|n| n.process.is_some()) {
            let url = format!("http://127.0.0.1:{}/jsz", node.monitor_port);
            if let Some(jsz) = monitor_json(&url).await {
                if let Some(leader) = jsz["meta_cluster"]["leader"].as_str() {
                    if !leader.is_empty() {
                        return Some(leader.to_owned());
                    }
                }
            }
        }
        None
    }

    /// The name of the node leading stream `stream`, from the monitoring endpoints (only the
    /// leader reports a stream under `leader-only`).
    pub async fn stream_leader(&self, stream: &str) -> Option<String> {
        for node in self.nodes.iter().filter(|n| n.process.is_some()) {
            let url = format!(
                "http://127.0.0.1:{}/jsz?streams=true&leader-only=true",
                node.monitor_port
            );
            let Some(jsz) = monitor_json(&url).await else {
                continue;
            };
            let leads = jsz["account_details"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|account| account["stream_detail"].as_array().into_iter().flatten())
                .any(|detail| detail["name"] == stream);
            if leads {
                return Some(node.name.clone());
            }
        }
        None
    }

    /// The last sequence of stream `stream` in node `i`'s copy, from its monitoring endpoint.
    pub async fn stream_last_sequence(&self, i: usize, stream: &str) -> Option<u64> {
        let url = format!(
            "http://127.0.0.1:{}/jsz?streams=true",
            self.nodes[i].monitor_port
        );
        let jsz = monitor_json(&url).await?;
        jsz["account_details"]
            .as_array()?
            .iter()
            .flat_map(|account| account["stream_detail"].as_array().into_iter().flatten())
            .find(|detail| detail["name"] == stream)?["state"]["last_seq"]
            .as_u64()
    }

    /// The last lines of node `i`'s log, for a failure message.
    pub fn log_tail(&self, i: usize, lines: usize) -> String {
        log_tail(&self.nodes[i].log, lines)
    }
}

impl Drop for NatsCluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            if let Some(mut process) = node.process.take() {
                // A frozen node ignores everything but SIGKILL, which `kill` sends.
                process.kill();
            }
        }
    }
}

/// A monitoring endpoint's JSON, or `None` without a prompt answer.
async fn monitor_json(url: &str) -> Option<serde_json::Value> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(1))
        .no_proxy()
        .build()
        .ok()?;
    http.get(url).send().await.ok()?.json().await.ok()
}
