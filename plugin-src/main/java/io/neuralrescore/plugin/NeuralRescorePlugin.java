/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.plugin;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.lucene.util.SetOnce;
import org.opensearch.action.ActionRequest;
import org.opensearch.action.support.ActionFilter;
import org.opensearch.cluster.metadata.IndexNameExpressionResolver;
import org.opensearch.cluster.node.DiscoveryNodes;
import org.opensearch.cluster.service.ClusterService;
import org.opensearch.common.settings.ClusterSettings;
import org.opensearch.common.settings.IndexScopedSettings;
import org.opensearch.common.settings.Setting;
import org.opensearch.common.settings.Settings;
import org.opensearch.common.settings.SettingsFilter;
import org.opensearch.core.ParseField;
import org.opensearch.core.action.ActionResponse;
import org.opensearch.core.common.io.stream.NamedWriteableRegistry;
import org.opensearch.core.xcontent.NamedXContentRegistry;
import org.opensearch.env.Environment;
import org.opensearch.env.NodeEnvironment;
import org.opensearch.index.mapper.Mapper;
import org.opensearch.ingest.Processor;
import org.opensearch.plugins.ActionPlugin;
import org.opensearch.plugins.IngestPlugin;
import org.opensearch.plugins.MapperPlugin;
import org.opensearch.plugins.Plugin;
import org.opensearch.plugins.SearchPlugin;
import org.opensearch.repositories.RepositoriesService;
import org.opensearch.rest.RestController;
import org.opensearch.rest.RestHandler;
import org.opensearch.script.ScriptService;
import org.opensearch.threadpool.ExecutorBuilder;
import org.opensearch.threadpool.FixedExecutorBuilder;
import org.opensearch.threadpool.ThreadPool;
import org.opensearch.transport.client.Client;
import org.opensearch.watcher.ResourceWatcherService;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import io.neuralrescore.ingest.EncodingProcessor;
import io.neuralrescore.mapper.MultiVectorFieldMapper;
import io.neuralrescore.model.ModelLease;
import io.neuralrescore.model.ModelRegistry;
import io.neuralrescore.model.onnx.BatchLimits;
import io.neuralrescore.model.onnx.InferenceRunner;
import io.neuralrescore.model.onnx.OnnxModelLoader;
import io.neuralrescore.model.onnx.OnnxOptions;
import io.neuralrescore.query.LateInteractionQueryBuilder;
import io.neuralrescore.query.RelevanceFilterQueryBuilder;
import io.neuralrescore.rescore.CosineFilterRescorerBuilder;
import io.neuralrescore.rescore.CrossEncoderRescorerBuilder;
import io.neuralrescore.rescore.LateInteractionRescorerBuilder;
import io.neuralrescore.rescore.TextEmbeddingRescorerBuilder;
import io.neuralrescore.rest.RestModelsAction;
import io.neuralrescore.rest.RestStatsAction;
import io.neuralrescore.rest.RestUnloadModelAction;
import io.neuralrescore.settings.RescoreSettings;
import io.neuralrescore.stats.RescoreStats;
import io.neuralrescore.transport.DroppedHitsActionFilter;
import io.neuralrescore.transport.NodeStatsAction;
import io.neuralrescore.transport.TransportNodeStatsAction;
import io.neuralrescore.transport.TransportUnloadModelAction;
import io.neuralrescore.transport.UnloadModelAction;

/** Registers the plugin's rescorers, field type, ingest processors, settings, thread pool, search filter and REST endpoints. */
public class NeuralRescorePlugin extends Plugin implements SearchPlugin, ActionPlugin, MapperPlugin, IngestPlugin {
    private static final Logger logger = LogManager.getLogger(NeuralRescorePlugin.class);

    /** Folder name of the plugin once installed; models shipped in the zip live in its {@code models/}. */
    public static final String PLUGIN_NAME = "neural-rescore";

    private final SetOnce<ModelRegistry> registry = new SetOnce<>();

    @Override
    public List<Setting<?>> getSettings() {
        return RescoreSettings.all();
    }

    @Override
    public List<ExecutorBuilder<?>> getExecutorBuilders(Settings settings) {
        return List.of(new FixedExecutorBuilder(settings, RescoreSettings.THREAD_POOL, 1, 1000, "thread_pool." + RescoreSettings.THREAD_POOL));
    }

    @Override
    public Collection<Object> createComponents(
        Client client,
        ClusterService clusterService,
        ThreadPool threadPool,
        ResourceWatcherService resourceWatcherService,
        ScriptService scriptService,
        NamedXContentRegistry xContentRegistry,
        Environment environment,
        NodeEnvironment nodeEnvironment,
        NamedWriteableRegistry namedWriteableRegistry,
        IndexNameExpressionResolver indexNameExpressionResolver,
        Supplier<RepositoriesService> repositoriesServiceSupplier
    ) {
        Settings settings = environment.settings();
        RescoreStats stats = new RescoreStats();
        BatchLimits limits = new BatchLimits(
            RescoreSettings.BATCH_MAX_TOKENS.get(settings),
            RescoreSettings.BATCH_MAX_SIZE.get(settings),
            RescoreSettings.BATCH_MAX_PADDING.get(settings)
        );
        ClusterSettings clusterSettings = clusterService.getClusterSettings();
        clusterSettings.addSettingsUpdateConsumer(RescoreSettings.BATCH_MAX_TOKENS, limits::setMaxTokens);
        clusterSettings.addSettingsUpdateConsumer(RescoreSettings.BATCH_MAX_SIZE, limits::setMaxSize);
        clusterSettings.addSettingsUpdateConsumer(RescoreSettings.BATCH_MAX_PADDING, limits::setMaxPadding);
        OnnxOptions options = new OnnxOptions(
            RescoreSettings.DEVICE.get(settings),
            RescoreSettings.GPU_DEVICE_ID.get(settings),
            RescoreSettings.INTRA_OP_THREADS.get(settings),
            RescoreSettings.INTER_OP_THREADS.get(settings)
        );
        InferenceRunner runner = new InferenceRunner(threadPool.executor(RescoreSettings.THREAD_POOL), limits, stats);
        ModelRegistry models = new ModelRegistry(modelRoots(environment), new OnnxModelLoader(options, runner), stats);
        registry.set(models);
        List<String> preload = RescoreSettings.PRELOAD.get(settings);
        if (preload.isEmpty() == false) {
            threadPool.generic().execute(() -> preload(models, preload));
        }
        return List.of(models);
    }

    static List<Path> modelRoots(Environment environment) {
        Settings settings = environment.settings();
        List<Path> roots = new ArrayList<>();
        String configured = RescoreSettings.MODELS_PATH.get(settings);
        roots.add(configured.isEmpty() ? environment.configDir().resolve("rescore-models") : environment.configDir().resolve(configured));
        String bundled = RescoreSettings.BUNDLED_MODELS_PATH.get(settings);
        roots.add(bundled.isEmpty() ? environment.pluginsDir().resolve(PLUGIN_NAME).resolve("models") : Path.of(bundled));
        return roots;
    }

    private static void preload(ModelRegistry models, List<String> ids) {
        for (String id : ids) {
            try (ModelLease lease = models.acquire(id)) {
                logger.info("preloaded model [{}] on [{}]", id, lease.model().device());
            } catch (Exception e) {
                logger.error("cannot preload model [" + id + "]", e);
            }
        }
    }

    private ModelRegistry registry() {
        return registry.get();
    }

    @Override
    public List<RescorerSpec<?>> getRescorers() {
        return List.of(
            new RescorerSpec<>(
                new ParseField(CrossEncoderRescorerBuilder.NAME),
                in -> new CrossEncoderRescorerBuilder(in, registry()),
                parser -> CrossEncoderRescorerBuilder.fromXContent(parser, registry())
            ),
            new RescorerSpec<>(
                new ParseField(TextEmbeddingRescorerBuilder.NAME),
                in -> new TextEmbeddingRescorerBuilder(in, registry()),
                parser -> TextEmbeddingRescorerBuilder.fromXContent(parser, registry())
            ),
            new RescorerSpec<>(
                new ParseField(LateInteractionRescorerBuilder.NAME),
                in -> new LateInteractionRescorerBuilder(in, registry()),
                parser -> LateInteractionRescorerBuilder.fromXContent(parser, registry())
            ),
            new RescorerSpec<>(
                new ParseField(CosineFilterRescorerBuilder.NAME),
                in -> new CosineFilterRescorerBuilder(in, registry()),
                parser -> CosineFilterRescorerBuilder.fromXContent(parser, registry())
            )
        );
    }

    @Override
    public List<QuerySpec<?>> getQueries() {
        return List.of(
            new QuerySpec<>(
                LateInteractionQueryBuilder.NAME,
                in -> new LateInteractionQueryBuilder(in, registry()),
                parser -> LateInteractionQueryBuilder.fromXContent(parser, registry())
            ),
            new QuerySpec<>(
                RelevanceFilterQueryBuilder.NAME,
                in -> new RelevanceFilterQueryBuilder(in, registry()),
                parser -> RelevanceFilterQueryBuilder.fromXContent(parser, registry())
            )
        );
    }

    @Override
    public Map<String, Mapper.TypeParser> getMappers() {
        return Map.of(MultiVectorFieldMapper.CONTENT_TYPE, MultiVectorFieldMapper.PARSER);
    }

    @Override
    public Map<String, Processor.Factory> getProcessors(Processor.Parameters parameters) {
        return Map.of(
            EncodingProcessor.LATE_INTERACTION,
            new EncodingProcessor.Factory(EncodingProcessor.LATE_INTERACTION, this::registry),
            EncodingProcessor.TEXT_EMBEDDING,
            new EncodingProcessor.Factory(EncodingProcessor.TEXT_EMBEDDING, this::registry)
        );
    }

    @Override
    public List<ActionHandler<? extends ActionRequest, ? extends ActionResponse>> getActions() {
        return List.of(
            new ActionHandler<>(UnloadModelAction.INSTANCE, TransportUnloadModelAction.class),
            new ActionHandler<>(NodeStatsAction.INSTANCE, TransportNodeStatsAction.class)
        );
    }

    @Override
    public List<ActionFilter> getActionFilters() {
        return List.of(new DroppedHitsActionFilter());
    }

    @Override
    public List<RestHandler> getRestHandlers(
        Settings settings,
        RestController restController,
        ClusterSettings clusterSettings,
        IndexScopedSettings indexScopedSettings,
        SettingsFilter settingsFilter,
        IndexNameExpressionResolver indexNameExpressionResolver,
        Supplier<DiscoveryNodes> nodesInCluster
    ) {
        return List.of(new RestModelsAction(this::registry), new RestStatsAction(), new RestUnloadModelAction());
    }

    @Override
    public void close() throws IOException {
        ModelRegistry models = registry.get();
        if (models != null) {
            models.close();
        }
    }
}
