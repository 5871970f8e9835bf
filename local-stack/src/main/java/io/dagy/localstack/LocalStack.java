package io.dagy.localstack;

import com.amazonaws.services.dynamodbv2.local.main.ServerRunner;
import com.amazonaws.services.dynamodbv2.local.server.DynamoDBProxyServer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.elasticmq.rest.sqs.SQSRestServer;
import org.elasticmq.rest.sqs.SQSRestServerBuilder;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.gaul.s3proxy.nio2blob.FilesystemNio2BlobStore;
import org.gaul.s3proxy.nio2blob.TransientNio2BlobStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.reflect.Field;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * DynamoDB Local, ElasticMQ (SQS) and S3Proxy (S3), started in this JVM and listening on 127.0.0.1 only.
 *
 * <p>The three servers speak the real AWS wire protocols, so the application and the tests use the
 * ordinary AWS SDK clients against them. Closing the stack stops all three.
 */
public final class LocalStack implements AutoCloseable {

    /** The credentials every local server accepts. They are not secrets: nothing but loopback can reach them. */
    public static final String ACCESS_KEY = "local";
    public static final String SECRET_KEY = "local-secret";
    public static final String REGION = "us-east-1";

    private static final Logger log = LoggerFactory.getLogger(LocalStack.class);
    private static final String LOOPBACK = "127.0.0.1";

    private final DynamoDBProxyServer dynamoDb;
    private final SQSRestServer sqs;
    private final S3Proxy s3;
    private final URI dynamoDbEndpoint;
    private final URI sqsEndpoint;
    private final URI s3Endpoint;

    private LocalStack(DynamoDBProxyServer dynamoDb, URI dynamoDbEndpoint,
                       SQSRestServer sqs, URI sqsEndpoint,
                       S3Proxy s3, URI s3Endpoint) {
        this.dynamoDb = dynamoDb;
        this.dynamoDbEndpoint = dynamoDbEndpoint;
        this.sqs = sqs;
        this.sqsEndpoint = sqsEndpoint;
        this.s3 = s3;
        this.s3Endpoint = s3Endpoint;
    }

    /**
     * Starts the three servers. On failure, whatever already started is stopped again before the exception leaves.
     */
    public static LocalStack start(LocalStackOptions options) {
        List<AutoCloseable> started = new ArrayList<>();
        try {
            DynamoDBProxyServer dynamoDb = startDynamoDb(options);
            started.add(dynamoDb::stop);
            URI dynamoDbEndpoint = endpoint(connectorOf(dynamoDb).getLocalPort());

            SQSRestServer sqs = SQSRestServerBuilder.withInterface(LOOPBACK)
                    .withPort(options.sqsPort())
                    .withAWSRegion(REGION)
                    .start();
            started.add(sqs::stopAndWait);
            URI sqsEndpoint = endpoint(sqs.waitUntilStarted().localAddress().getPort());

            S3Proxy s3 = S3Proxy.builder()
                    .blobStore(blobStore(options))
                    .endpoint(URI.create("http://" + LOOPBACK + ":" + options.s3Port()))
                    .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
                    .build();
            s3.start();
            started.add(s3::stop);
            awaitStarted(s3);
            URI s3Endpoint = endpoint(s3.getPort());

            log.info("Local AWS stack on {}: DynamoDB {}, SQS {}, S3 {} ({})", LOOPBACK,
                    dynamoDbEndpoint.getPort(), sqsEndpoint.getPort(), s3Endpoint.getPort(),
                    options.inMemory() ? "in memory" : "data in " + options.dataDirectory().toAbsolutePath());
            return new LocalStack(dynamoDb, dynamoDbEndpoint, sqs, sqsEndpoint, s3, s3Endpoint);
        } catch (Exception e) {
            closeAll(started, e);
            throw new LocalStackException("the local AWS stack did not start: " + e.getMessage(), e);
        }
    }

    /**
     * The stack another node of this machine started, on its ports: this node uses its servers and stops none of
     * them when it closes (how several nodes share one local installation, docs/operations.md).
     */
    public static LocalStack attach(int dynamoDbPort, int sqsPort, int s3Port) {
        log.info("Joining the local AWS stack on {}: DynamoDB {}, SQS {}, S3 {}", LOOPBACK, dynamoDbPort, sqsPort, s3Port);
        return new LocalStack(null, endpoint(dynamoDbPort), null, endpoint(sqsPort), null, endpoint(s3Port));
    }

    public URI dynamoDbEndpoint() {
        return dynamoDbEndpoint;
    }

    public URI sqsEndpoint() {
        return sqsEndpoint;
    }

    public URI s3Endpoint() {
        return s3Endpoint;
    }

    @Override
    public void close() {
        if (dynamoDb == null) {
            return; // attached to another node's servers: they are not ours to stop
        }
        List<AutoCloseable> servers = List.of(s3::stop, sqs::stopAndWait, dynamoDb::stop);
        LocalStackException failure = new LocalStackException("the local AWS stack did not stop cleanly", null);
        closeAll(servers, failure);
        if (failure.getSuppressed().length > 0) {
            throw failure;
        }
    }

    private static DynamoDBProxyServer startDynamoDb(LocalStackOptions options) throws Exception {
        // DynamoDB Local rejects port 0 on its command line; the real port is set on its connector below.
        List<String> args = new ArrayList<>(List.of("-port", "8000", "-sharedDb", "-disableTelemetry"));
        if (options.inMemory()) {
            args.add("-inMemory");
        } else {
            Path dir = Files.createDirectories(options.dataDirectory().resolve("dynamodb"));
            args.addAll(List.of("-dbPath", dir.toString()));
            String mode = DynamoDbJournal.useWriteAheadLog(dir);
            if (!"wal".equalsIgnoreCase(mode)) {
                log.warn("DynamoDB Local's database stays in journal mode '{}': writes sync the disk more often", mode);
            }
        }
        DynamoDBProxyServer server = ServerRunner.createServerFromCommandLineArgs(args.toArray(String[]::new));
        // DynamoDB Local binds every interface and has no option to choose one; bind its connector to loopback.
        ServerConnector connector = connectorOf(server);
        connector.setHost(LOOPBACK);
        connector.setPort(options.dynamoDbPort());
        server.start();
        return server;
    }

    /** The Jetty connector inside DynamoDB Local, which the library keeps in a private field. */
    private static ServerConnector connectorOf(DynamoDBProxyServer server) {
        try {
            Field field = DynamoDBProxyServer.class.getDeclaredField("server");
            field.setAccessible(true);
            return (ServerConnector) ((Server) field.get(server)).getConnectors()[0];
        } catch (ReflectiveOperationException e) {
            throw new LocalStackException("DynamoDB Local changed its internals: " + e.getMessage(), e);
        }
    }

    private static BlobStore blobStore(LocalStackOptions options) throws IOException {
        if (options.inMemory()) {
            return new TransientNio2BlobStore();
        }
        Path dir = Files.createDirectories(options.dataDirectory().resolve("s3"));
        return new FilesystemNio2BlobStore(dir.toAbsolutePath().toString());
    }

    private static void awaitStarted(S3Proxy s3) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!"STARTED".equals(s3.getState())) {
            if (System.nanoTime() > deadline) {
                throw new LocalStackException("S3Proxy did not start within 30 s (state " + s3.getState() + ")", null);
            }
            Thread.sleep(10);
        }
    }

    private static URI endpoint(int port) {
        return URI.create("http://" + LOOPBACK + ":" + port);
    }

    private static void closeAll(List<AutoCloseable> closeables, Exception collector) {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            try {
                closeables.get(i).close();
            } catch (Exception e) {
                collector.addSuppressed(e);
            }
        }
    }
}
