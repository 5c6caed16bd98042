import type { Evaluation } from '../train/records';
import type { SampleImages } from '../worker/protocol';
import { ImageCanvas } from './ImageCanvas';
import { VisChart } from './VisChart';

type Vis = typeof import('@tensorflow/tfjs-vis');
interface ChartInput {
  result: Evaluation;
  classes: string[];
}

const drawConfusion = (vis: Vis, el: HTMLElement, { result, classes }: ChartInput) =>
  vis.render.confusionMatrix(el, { values: result.confusion, tickLabels: classes }, { width: 460, height: 420, shadeDiagonal: true });

// A table of our own rows: tfjs-vis's show.perClassAccuracy prints raw fractions (0.3667).
const drawPerClass = async (vis: Vis, el: HTMLElement, { result, classes }: ChartInput) =>
  vis.render.table(el, {
    headers: ['Class', 'Accuracy', 'Test images'],
    values: result.perClass.map((accuracy, c) => [
      classes[c] ?? String(c),
      `${(accuracy * 100).toFixed(1)}%`,
      (result.confusion[c]?.reduce((a, b) => a + b, 0) ?? 0).toLocaleString('en-US'),
    ]),
  });

/**
 * `images` holds the pixels of `result.samples` followed by those of
 * `result.misclassified`, in that order.
 */
export function ResultsPanel({ result, images, classes }: { result: Evaluation; images: SampleImages; classes: string[] }) {
  const chartInput = { result, classes };
  const name = (c: number) => classes[c] ?? String(c);
  return (
    <section className="panel" aria-label="Results">
      <h2>Test set results</h2>
      <p className="headline">
        Accuracy <strong data-testid="test-accuracy">{(result.accuracy * 100).toFixed(2)}%</strong> and loss{' '}
        <strong data-testid="test-loss">{result.loss.toFixed(4)}</strong> on {result.count.toLocaleString('en-US')} test images never seen
        in training (chance: 10%).
      </p>
      <div className="charts">
        <VisChart data={chartInput} draw={drawConfusion} testId="confusion-matrix" label="Confusion matrix" />
        <VisChart data={chartInput} draw={drawPerClass} testId="per-class-accuracy" label="Per-class accuracy" />
      </div>
      <h3>Predictions on 16 test images</h3>
      <div className="gallery" data-testid="test-samples">
        {result.samples.map((s, k) => (
          <figure key={s.index} className={s.predicted === s.label ? 'right' : 'wrong'}>
            <ImageCanvas pixels={images.pixels} index={k} title={`test image ${s.index}`} size={64} />
            <figcaption>
              {name(s.predicted)} <small>({((s.probs[s.predicted] ?? 0) * 100).toFixed(0)}%)</small>
              <br />
              <small>true: {name(s.label)}</small>
            </figcaption>
          </figure>
        ))}
      </div>
      <h3>Misclassified test images</h3>
      <div className="gallery" data-testid="misclassified">
        {result.misclassified.map((m, k) => (
          <figure key={m.index} className="wrong">
            <ImageCanvas pixels={images.pixels} index={result.samples.length + k} title={`test image ${m.index}`} size={48} />
            <figcaption>
              <small>
                {name(m.predicted)}, truly {name(m.label)}
              </small>
            </figcaption>
          </figure>
        ))}
      </div>
    </section>
  );
}
