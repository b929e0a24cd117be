package memengine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.harness.Neo4j;
import org.neo4j.harness.Neo4jBuilders;

/**
 * Runs Neo4j Community in this JVM with only Bolt enabled, on 127.0.0.1.
 *
 * <p>Usage: {@code java -cp neo4j-launcher.jar:lib/* memengine.Neo4jLauncher <port> <workDir>
 * [--exit-on-stdin-eof]}. With the flag, the server also stops when its standard input closes,
 * so a parent that dies without signalling it (SIGKILL) leaves no orphan JVM behind.
 * Authentication is disabled: the server listens on loopback only and holds
 * development or test data, so any credentials are accepted. The harness keeps
 * its store in a fresh sub-directory of {@code workDir} and removes it when it
 * stops. Prints {@code NEO4J_READY bolt://127.0.0.1:<port>} once Bolt accepts
 * connections, and stops cleanly on SIGTERM or SIGINT.
 */
public final class Neo4jLauncher {
  private static final String HOST = "127.0.0.1";

  private Neo4jLauncher() {}

  public static void main(String[] args) throws Exception {
    boolean watchStdin = args.length == 3 && args[2].equals("--exit-on-stdin-eof");
    if (args.length != 2 && !watchStdin) {
      System.err.println("usage: Neo4jLauncher <bolt-port> <work-dir> [--exit-on-stdin-eof]");
      System.exit(2);
    }
    int port = Integer.parseInt(args[0]);
    Path workDir = Path.of(args[1]).toAbsolutePath();
    Files.createDirectories(workDir);

    Neo4j neo4j =
        Neo4jBuilders.newInProcessBuilder(workDir)
            .withDisabledServer()
            .withConfig(BoltConnector.enabled, true)
            .withConfig(BoltConnector.listen_address, new SocketAddress(HOST, port))
            .withConfig(BoltConnector.advertised_address, new SocketAddress(HOST, port))
            .withConfig(GraphDatabaseSettings.auth_enabled, false)
            // Small page cache: the store holds one developer's or one test run's graph.
            .withConfig(GraphDatabaseSettings.pagecache_memory, 64L * 1024 * 1024)
            // Bolt's two event-loop groups otherwise wait a 5 s quiet period each on shutdown.
            .withConfig(GraphDatabaseInternalSettings.netty_server_shutdown_quiet_period, 0)
            .withConfig(
                GraphDatabaseInternalSettings.netty_server_shutdown_timeout, Duration.ofSeconds(5))
            .build();

    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    neo4j.close();
                    System.out.println("NEO4J_STOPPED");
                  } finally {
                    stopped.countDown();
                  }
                },
                "neo4j-shutdown"));

    System.out.println("NEO4J_READY " + neo4j.boltURI());
    System.out.flush();
    if (watchStdin) {
      Thread watcher =
          new Thread(
              () -> {
                try {
                  while (System.in.read() != -1) {
                    // Input carries no meaning; only its end does.
                  }
                } catch (IOException e) {
                  // A broken pipe means the parent is gone, as EOF does.
                }
                System.exit(0);
              },
              "stdin-watcher");
      watcher.setDaemon(true);
      watcher.start();
    }
    stopped.await();
  }
}
