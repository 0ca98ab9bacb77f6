"""The PyTorch reference for the emoji DCGAN (issue 20's quality bar): a DCGAN of the same size as emoji-dcgan,
trained on the same images for the same number of epochs, in the plain recipe of pytorch/examples' dcgan
(Radford et al. 2016: Adam 2e-4 / beta1 0.5, batch 64, N(0, 0.02) weights, non-saturating BCE loss; no flips,
DiffAugment or EMA).

The same network as trainer/families/dcgan.ts from the same flags (--image-size, --base-channels,
--generator-channels, --discriminator-channels, --kernel; dcganStages and dcganChannels there): z is projected to
the first feature map (the image side halved while it stays even and above 4: 4x4 for 32 and 64, 7x7 for 28),
then one stride-2 transposed convolution per stage. The defaults (64, base 256, kernel 4) are emoji-dcgan's size:
  G: z(100) -> Linear(4*4*256) + BN + ReLU -> ConvT 128, 64, 32 (k4 s2 p1) + BN + ReLU -> ConvT 3 + tanh
  D: Conv 32 + LReLU(0.2) -> Conv 64, 128, 256 + BN + LReLU -> Linear(1)
At 32 px with base 256: G 256-128-64 from 4x4, D 64-128-256. PyTorch pads symmetrically where TensorFlow's 'same'
pads one more at the end (odd kernels): the same shapes and arithmetic, the taps aligned one pixel apart.
Same images: the trainer's decoded data-set cache (gzip -c ~/.cache/edge-generative/datasets/KEY.bin, KEY from the
trainer's "data: ... cached in" line), e.g. 64x64x3 over white, 59 batches of 64 per epoch.

--steps N is a timing run instead (tests/bench/trainer-bench.ts): --warmup-steps steps, then N timed steps (with
--blocks B: B blocks of N, each started by a line on stdin, so a caller can alternate with its own blocks), one
JSON line per block {"block", "steps", "seconds"}; no files written. Threads: torch.set_num_threads(--threads),
also set OMP_NUM_THREADS (Debian's torch otherwise starts on one).

Writes, under --out: a model folder pytorch-eNNN/ at each --export-epochs, generator.onnx (input "z" [batch, 100]
(and "label" [batch] for --conditional), output "image" [batch, 3, 64, 64] in -1..1) with a manifest.json of the
project's schema (shared/manifest.ts), so `npm run eval -- OUT/pytorch-eNNN` measures it with the emoji ruler and
the edge can serve it; grid-eNNN.png (64 samples from fixed z) every --grid-every epochs; log.jsonl (losses and
wall time per epoch).

  python3 scripts/pytorch-dcgan-reference.py --data emoji-64.bin.gz --epochs 200 --export-epochs 60,100 --out out/
  OMP_NUM_THREADS=2 python3 scripts/pytorch-dcgan-reference.py --data emoji-32.bin --image-size 32 --fresh-z --steps 20
"""
import argparse
import copy
import sys
import gzip
import json
import os
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def load_cache(path, side=None):
    """The trainer's cache (trainer/data/folder.ts): 4-byte header length, a JSON header, the labels, the pixels."""
    raw = gzip.open(path).read() if path.endswith('.gz') else open(path, 'rb').read()
    (n,) = struct.unpack('>I', raw[:4])
    header = json.loads(raw[4:4 + n])
    count = header['count']
    labels = np.frombuffer(raw, dtype=np.uint8, count=count, offset=4 + n)
    images = np.frombuffer(raw, dtype=np.uint8, offset=4 + n + count)
    per = images.size // count
    if side is None:  # the cache does not say its size: RGB assumed
        side = int(round((per / 3) ** 0.5))
    channels = per // (side * side)
    if channels not in (1, 3) or channels * side * side != per:
        sys.exit(f'--data {path}: {per} bytes per image is not {side}x{side} grey or RGB (is --image-size right?)')
    return images.reshape(count, side, side, channels), labels


def dcgan_stages(side):
    """trainer/families/dcgan.ts's dcganStages: halve while even and above 4."""
    h, stages = side, 0
    while h % 2 == 0 and h > 4:
        h //= 2
        stages += 1
    if stages == 0:
        sys.exit(f'--image-size {side}: a DCGAN needs an even side above 4')
    return h, stages


def dcgan_channels(a, stages):
    """trainer/families/dcgan.ts's dcganChannels: explicit lists, or halving from --base-channels."""
    parse = lambda v: [int(x) for x in v.split(',') if x]
    # Math.round of trainer/families/dcgan.ts (halves up), not Python's round (halves to even): 12.5 -> 13.
    g = parse(a.generator_channels) or [max(1, int(a.base_channels / 2 ** i + 0.5)) for i in range(stages)]
    d = parse(a.discriminator_channels) or list(reversed(g))
    for name, ch in (('--generator-channels', g), ('--discriminator-channels', d)):
        if len(ch) != stages:
            sys.exit(f'{name} has {len(ch)} entries, but a {a.image_size}x{a.image_size} image needs {stages} stages')
    return g, d


def same_padding(k):
    """PyTorch padding and output_padding that make a stride-2 (transposed) convolution halve (double) the side, as 'same'."""
    p = (k - 1) // 2
    return p, 2 + 2 * p - k


def diff_augment(x, policies):
    """DiffAugment (Zhao et al. 2020), as the paper's reference code and trainer/families/diff-augment.ts, on [-1, 1] NCHW."""
    n, _, h, w = x.shape
    r = lambda *s: torch.rand(*s, device=x.device)
    if 'color' in policies:
        x = x + (r(n, 1, 1, 1) - 0.5)
        m = x.mean(1, keepdim=True)
        x = (x - m) * (r(n, 1, 1, 1) * 2) + m
        m = x.mean([1, 2, 3], keepdim=True)
        x = (x - m) * (r(n, 1, 1, 1) + 0.5) + m
    if 'translation' in policies:
        sh, sw = int(h * 0.125 + 0.5), int(w * 0.125 + 0.5)
        ty = torch.randint(-sh, sh + 1, (n, 1, 1), device=x.device)
        tx = torch.randint(-sw, sw + 1, (n, 1, 1), device=x.device)
        gb, gy, gx = torch.meshgrid(torch.arange(n, device=x.device), torch.arange(h, device=x.device), torch.arange(w, device=x.device), indexing='ij')
        gy = torch.clamp(gy + ty + 1, 0, h + 1)
        gx = torch.clamp(gx + tx + 1, 0, w + 1)
        pad = F.pad(x, [1, 1, 1, 1, 0, 0, 0, 0])
        x = pad.permute(0, 2, 3, 1).contiguous()[gb, gy, gx].permute(0, 3, 1, 2)
    if 'cutout' in policies:
        ch, cw = int(h * 0.5 + 0.5), int(w * 0.5 + 0.5)
        oy = torch.randint(0, h + (1 - ch % 2), (n, 1, 1), device=x.device)
        ox = torch.randint(0, w + (1 - cw % 2), (n, 1, 1), device=x.device)
        gb, gy, gx = torch.meshgrid(torch.arange(n, device=x.device), torch.arange(ch, device=x.device), torch.arange(cw, device=x.device), indexing='ij')
        gy = torch.clamp(gy + oy - ch // 2, 0, h - 1)
        gx = torch.clamp(gx + ox - cw // 2, 0, w - 1)
        mask = torch.ones(n, h, w, device=x.device)
        mask[gb, gy, gx] = 0
        x = x * mask.unsqueeze(1)
    return x


class ClassBatchNorm2d(nn.Module):
    """Conditional batch norm (de Vries et al. 2017): normalised channels, scaled and shifted per class (the trainer's classBatchNorm)."""

    def __init__(self, c, classes):
        super().__init__()
        self.bn = nn.BatchNorm2d(c, affine=False)
        self.gamma = nn.Embedding(classes, c)
        self.beta = nn.Embedding(classes, c)
        nn.init.normal_(self.gamma.weight, 1.0, 0.02)
        nn.init.zeros_(self.beta.weight)

    def forward(self, x, label):
        return self.bn(x) * self.gamma(label)[:, :, None, None] + self.beta(label)[:, :, None, None]


def doubling(a, b, kernel, upsample):
    """G's stride-2 stage: a transposed convolution, or nearest upsampling and a 3x3 convolution (Odena et al. 2016)."""
    if upsample == 'nearest':
        return [nn.Upsample(scale_factor=2, mode='nearest'), nn.Conv2d(a, b, 3, 1, 1)]
    p, op = same_padding(kernel)
    return [nn.ConvTranspose2d(a, b, kernel, 2, p, op)]


class Generator(nn.Module):
    def __init__(self, nz=100, ch=(256, 128, 64, 32), out=3, classes=0, kernel=4, side0=4, upsample='transposed', conditioning='concat'):
        super().__init__()
        self.classes = classes
        self.by_class = classes and conditioning == 'projection'
        self.c0, self.side0 = ch[0], side0
        self.fc = nn.Linear(nz + (0 if self.by_class else classes), side0 * side0 * ch[0])
        self.bn0 = nn.BatchNorm1d(side0 * side0 * ch[0], eps=1e-5, momentum=0.1)
        self.stages = nn.ModuleList(nn.Sequential(*doubling(a, b, kernel, upsample)) for a, b in zip(ch, ch[1:]))
        self.norms = nn.ModuleList(ClassBatchNorm2d(b, classes) if self.by_class else nn.BatchNorm2d(b) for b in ch[1:])
        self.last = nn.Sequential(*doubling(ch[-1], out, kernel, upsample), nn.Tanh())

    def forward(self, z, label=None):
        if self.classes and not self.by_class:  # Mirza & Osindero: y, one-hot, beside z
            z = torch.cat([z, F.one_hot(label, self.classes).float()], 1)
        x = F.relu(self.bn0(self.fc(z))).view(-1, self.c0, self.side0, self.side0)
        for stage, norm in zip(self.stages, self.norms):
            x = stage(x)
            x = F.relu(norm(x, label) if self.by_class else norm(x))
        return self.last(x)


class Discriminator(nn.Module):
    def __init__(self, ch=(32, 64, 128, 256), inp=3, classes=0, kernel=4, side=64, spectral=False, conditioning='concat'):
        super().__init__()
        self.classes = classes
        self.projection = classes and conditioning == 'projection'
        sn = nn.utils.spectral_norm if spectral else (lambda m: m)  # Miyato et al. 2018: every weight, no batch norm
        p, _ = same_padding(kernel)
        layers, prev = [], inp + (0 if self.projection else classes)
        for i, c in enumerate(ch):
            layers += [sn(nn.Conv2d(prev, c, kernel, 2, p))] + ([nn.BatchNorm2d(c)] if i > 0 and not spectral else []) + [nn.LeakyReLU(0.2, True)]
            prev = c
            side //= 2
        self.body = nn.Sequential(*layers)
        self.fc = sn(nn.Linear(prev * side * side, 1))
        if self.projection:  # Miyato & Koyama 2018: + <embed(y), features>
            self.embed = nn.Embedding(classes, prev * side * side)
            nn.init.normal_(self.embed.weight, 0.0, 0.02)

    def forward(self, x, label=None):
        if self.classes and not self.projection:  # y as constant planes beside the image channels
            planes = F.one_hot(label, self.classes).float()[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
            x = torch.cat([x, planes], 1)
        h = self.body(x).flatten(1)
        out = self.fc(h)
        if self.projection:
            out = out + (self.embed(label) * h).sum(1, keepdim=True)
        return out


def init_weights(m):  # Radford et al.: N(0, 0.02); BN gamma N(1, 0.02), as in pytorch/examples
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(m.weight, 0.0, 0.02)
        nn.init.zeros_(m.bias)
    elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) and m.affine:  # a class batch norm's scales are its own
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def save_grid(images, path):
    from PIL import Image
    x = ((images.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).cpu().numpy()
    n, h, w, c = x.shape
    cols = 8
    rows = (n + cols - 1) // cols
    grid = np.full((rows * h, cols * w, c), 255, np.uint8)
    for i in range(n):
        grid[(i // cols) * h:(i // cols + 1) * h, (i % cols) * w:(i % cols + 1) * w] = x[i]
    Image.fromarray(grid).save(path)


def export_onnx(g, path, device):
    g.eval()
    args = (torch.randn(2, 100, device=device),) + ((torch.zeros(2, dtype=torch.long, device=device),) if g.classes else ())
    names = ['z', 'label'][:len(args)]
    kw = dict(input_names=names, output_names=['image'], dynamic_axes={**{k: {0: 'batch'} for k in names}, 'image': {0: 'batch'}}, opset_version=17)
    try:
        torch.onnx.export(g, args, path, dynamo=False, **kw)  # the TorchScript exporter: no onnxscript needed
    except TypeError:  # torch < 2.5 has no `dynamo` argument
        torch.onnx.export(g, args, path, **kw)
    g.train()


def write_manifest(folder, a, row, classes, batches, side, channels):
    """A manifest of the project's schema (shared/manifest.ts) for the exported generator."""
    import datetime
    import hashlib
    sha = hashlib.sha256(open(os.path.join(folder, 'generator.onnx'), 'rb').read()).hexdigest()
    family = 'cgan' if classes else 'dcgan'
    inputs = [{'name': 'z', 'dtype': 'float32', 'shape': ['batch', 100]}] + ([{'name': 'label', 'dtype': 'int64', 'shape': ['batch']}] if classes else [])
    recipe = ' '.join(x for x in ['flip' if a.flip else '', f'diff-augment {a.diff_augment}' if a.diff_augment else '', f'ema {a.ema}' if a.ema else '',
                                  'hinge' if a.loss == 'hinge' else '', 'spectral D' if a.discriminator_norm == 'spectral' else '', 'nearest upsampling' if a.upsample == 'nearest' else '',
                                  'projection' if a.conditioning == 'projection' and classes else '', f'r1 {a.r1_gamma}' if a.r1_gamma else '',
                                  f'lr G {a.learning_rate} D {a.discriminator_learning_rate or a.learning_rate}' if a.discriminator_learning_rate else '',
                                  f'learning-rate parts {a.lr_parts}' if a.lr_parts else f'lr decay over the last {a.lr_decay_epochs} epochs' if a.lr_decay_epochs else '', 'standing statistics' if a.standing_stats and a.ema else ''] if x) or 'plain'
    labels = a.labels.split(',')[:classes] if classes else []
    manifest = {
        'schemaVersion': 1,
        'id': f'{family}-pytorch-e{row["epoch"]:03d}',
        'family': family,
        'version': sha[:12],
        'createdAt': datetime.datetime.now(datetime.timezone.utc).isoformat().replace('+00:00', 'Z'),
        'description': f'PyTorch reference {family.upper()} (scripts/pytorch-dcgan-reference.py, {recipe}, seed {a.seed}), the size of emoji-{family}',
        'latent': {'size': 100, 'distribution': 'normal'},
        'classes': {'count': classes, 'labels': labels},
        'image': {'width': side, 'height': side, 'channels': channels, 'pixelRange': '-1..1', 'preprocess': {'fit': 'crop', 'background': '#ffffff'}},
        'graphs': {'generator': {'file': 'generator.onnx', 'sha256': sha, 'inputs': inputs, 'outputs': [{'name': 'image', 'dtype': 'float32', 'shape': ['batch', channels, side, side]}]}},
        'training': {'dataset': 'emoji', 'steps': row['step'], 'epochs': row['epoch'], 'batchSize': 64, 'wallTimeSeconds': row['wall'], 'backend': f'PyTorch {torch.__version__}',
                     'finalLosses': {'d': row['d'], 'g': row['g']}, 'seed': a.seed, 'config': {'flip': a.flip, 'diffAugment': a.diff_augment, 'ema': a.ema, 'batchesPerEpoch': batches, 'loss': a.loss,
                                                                          'discriminatorNorm': a.discriminator_norm, 'upsample': a.upsample, 'conditioning': a.conditioning, 'learningRate': a.learning_rate,
                                                                          'discriminatorLearningRate': a.discriminator_learning_rate, 'beta1': a.beta1, 'beta2': a.beta2, 'r1Gamma': a.r1_gamma, 'r1Every': a.r1_every}},
    }
    with open(os.path.join(folder, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=2)


def loaded_blas():
    """The BLAS library this process mapped (Debian picks it by update-alternatives: reference BLAS is ~8x slower here)."""
    try:
        with open('/proc/self/maps') as f:
            libs = {line.split()[-1] for line in f if 'blas' in line.lower() and '/' in line}
        return ', '.join(sorted(os.path.basename(os.path.dirname(x)) + '/' + os.path.basename(x) for x in libs)) or 'none'
    except OSError:
        return 'unknown'


def timing_run(a, train_step, count, bs, device, g_ch, d_ch):
    """--steps: warm-up, then --blocks blocks of --steps steps on random batches; one JSON line per block."""
    t = 0

    def run(n):
        nonlocal t
        for _ in range(n):
            train_step(torch.randint(0, count, (bs,), device=device), t)
            t += 1
        if device == 'cuda':
            torch.cuda.synchronize()

    run(a.warmup_steps)
    print(json.dumps({'ready': True, 'torch': torch.__version__, 'threads': torch.get_num_threads(), 'blas': loaded_blas(), 'imageSize': a.image_size, 'generator': g_ch, 'discriminator': d_ch, 'batch': bs}), flush=True)
    for block in range(a.blocks):
        if a.blocks > 1 and not sys.stdin.readline():
            return  # the caller went away
        started = time.perf_counter()
        run(a.steps)
        print(json.dumps({'block': block, 'steps': a.steps, 'seconds': round(time.perf_counter() - started, 4)}), flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--data', required=True)
    p.add_argument('--epochs', type=int, default=200)
    p.add_argument('--export-epochs', default='')
    p.add_argument('--out', help='where models, grids and log.jsonl go (not with --steps)')
    p.add_argument('--image-size', type=int, help="the cache's image side (default: from its size, RGB assumed)")
    p.add_argument('--base-channels', type=int, default=256, help="G's width at its first feature map, halved per stage (trainer's baseChannels; 256: emoji-dcgan)")
    p.add_argument('--generator-channels', default='', help="G's channels per stage, e.g. 256,128,64 (trainer's generatorChannels)")
    p.add_argument('--discriminator-channels', default='', help="D's channels per stage (default: G's reversed)")
    p.add_argument('--kernel', type=int, default=4, help='convolution kernel size (trainer default 4)')
    p.add_argument('--batch', type=int, default=64)
    p.add_argument('--steps', type=int, default=0, help='a timing run: this many timed steps per block, JSON lines on stdout, no files')
    p.add_argument('--warmup-steps', type=int, default=2, help='untimed steps before a timing run')
    p.add_argument('--blocks', type=int, default=1, help='timing blocks; with more than 1, each waits for a line on stdin')
    p.add_argument('--threads', type=int, default=0, help='torch.set_num_threads (default: OMP_NUM_THREADS or torch\'s own)')
    p.add_argument('--labels', default='Activities,Animals & Nature,Flags,Food & Drink,Objects,People & Body,Smileys & Emotion,Symbols,Travel & Places', help="the data set's class names, in label order")
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--conditional', action='store_true', help='a conditional DCGAN on the data set labels')
    p.add_argument('--flip', action='store_true', help='mirror half of the real images')
    p.add_argument('--diff-augment', default='', help='e.g. color,translation,cutout')
    p.add_argument('--limit', type=int, default=0, help='keep the first N images (smoke tests)')
    p.add_argument('--grid-every', type=int, default=10, help='epochs between sample grids')
    p.add_argument('--fresh-z', action='store_true', help="draw a new z for G's step, as trainer/families/adversarial.ts does")
    p.add_argument('--bn-scale-one', action='store_true', help="batch-norm scales start at 1 (tfjs's default initialiser), not N(1, 0.02) as pytorch/examples and this project's trainer")
    p.add_argument('--ema', type=float, default=0.0, help='exponential moving average of G, e.g. 0.999')
    # The GAN recipe, as the trainer's options of the same names (docs/training.md).
    p.add_argument('--loss', choices=['non-saturating', 'hinge'], default='non-saturating')
    p.add_argument('--discriminator-norm', choices=['batch', 'spectral'], default='batch')
    p.add_argument('--upsample', choices=['transposed', 'nearest'], default='transposed')
    p.add_argument('--conditioning', choices=['concat', 'projection'], default='concat')
    p.add_argument('--learning-rate', type=float, default=2e-4)
    p.add_argument('--discriminator-learning-rate', type=float, default=0.0, help='0: --learning-rate (TTUR otherwise)')
    p.add_argument('--beta1', type=float, default=0.5)
    p.add_argument('--beta2', type=float, default=0.999)
    p.add_argument('--r1-gamma', type=float, default=0.0, help='R1 penalty on real images (Mescheder et al. 2018); 0: off')
    p.add_argument('--r1-every', type=int, default=16, help='lazy R1: every N D steps, N times as strong')
    p.add_argument('--lr-decay-epochs', type=int, default=0, help='the last N epochs lower both learning rates linearly toward 0 (trainer/run/lr-schedule.ts); 0: constant')
    p.add_argument('--lr-parts', default='', help='the schedule of a trainer run resumed in parts, END:DECAY,... (e.g. 67:0,97:30,150:25 for --epochs 67, then --resume --epochs 97 --lr-decay-epochs 30, then --resume --epochs 150 --lr-decay-epochs 25): each part decays over its last DECAY epochs as the trainer does with --lr-decay-epochs (0: constant); replaces --lr-decay-epochs')
    p.add_argument('--standing-stats', action='store_true', help="with --ema: before grids and exports, the average's batch norms get the mean of their batch statistics over 128 batches of 64 (Brock et al. 2019), as the trainer")
    a = p.parse_args()
    if not a.steps and not a.out:
        p.error('--out is required (or --steps N for a timing run)')
    if a.threads:
        torch.set_num_threads(a.threads)
    exports = {int(e) for e in a.export_epochs.split(',') if e}
    torch.manual_seed(a.seed)
    np.random.seed(a.seed)
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    images, labels = load_cache(a.data, a.image_size)
    a.image_size = images.shape[1]
    side0, stages = dcgan_stages(a.image_size)
    g_ch, d_ch = dcgan_channels(a, stages)
    if a.limit:
        images, labels = images[:a.limit], labels[:a.limit]
    data = torch.from_numpy(images.copy()).permute(0, 3, 1, 2).float().div(127.5).sub(1).to(device)
    channels = data.shape[1]
    ys = torch.from_numpy(labels.astype(np.int64)).to(device)
    classes = 9 if a.conditional else 0  # the emoji categories
    policies = [p for p in a.diff_augment.split(',') if p]
    aug = (lambda x: diff_augment(x, policies)) if policies else (lambda x: x)
    count = data.shape[0]
    bs = a.batch
    batches = count // bs  # drop_last, as the trainer: 59 batches of 64 per epoch for 3,781 images
    if batches == 0:
        sys.exit(f'--data {a.data}: {count} images, fewer than one batch of {bs}')
    # The trainer refuses R1 with a batch-norm D (its penalty's double backward is not built through its batch norm);
    # here autograd differentiates through it, so the recipe ablation can measure R1 on the baseline's D.
    g = Generator(ch=g_ch, out=channels, classes=classes, kernel=a.kernel, side0=side0, upsample=a.upsample, conditioning=a.conditioning).to(device)
    d = Discriminator(ch=d_ch, inp=channels, classes=classes, kernel=a.kernel, side=a.image_size, spectral=a.discriminator_norm == 'spectral', conditioning=a.conditioning).to(device)
    g.apply(init_weights)
    d.apply(init_weights)
    if a.bn_scale_one:
        for m in [*g.modules(), *d.modules()]:
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) and m.affine:
                nn.init.ones_(m.weight)
    shown = copy.deepcopy(g) if a.ema else g
    opt_g = torch.optim.Adam(g.parameters(), lr=a.learning_rate, betas=(a.beta1, a.beta2))
    opt_d = torch.optim.Adam(d.parameters(), lr=a.discriminator_learning_rate or a.learning_rate, betas=(a.beta1, a.beta2))
    d_updates = 0

    def train_step(idx, t):
        """One D step and one G step on the images idx; t counts steps from 0 (EMA warm-up)."""
        nonlocal d_updates
        real, y = data[idx], (ys[idx] if classes else None)
        if a.flip:
            real = torch.where(torch.rand(len(idx), 1, 1, 1, device=device) < 0.5, real.flip(3), real)
        fake = g(torch.randn(len(idx), 100, device=device), y)
        real_in = aug(real)
        lazy_r1 = a.r1_gamma and d_updates % a.r1_every == 0
        if lazy_r1:
            real_in = real_in.detach().requires_grad_(True)
        lr_, lf = d(real_in, y), d(aug(fake.detach()), y)
        if a.loss == 'hinge':  # Lim & Ye 2017; Miyato et al. 2018
            loss_d = F.relu(1 - lr_).mean() + F.relu(1 + lf).mean()
        else:  # D: log D(x) + log(1 - D(G(z))) (Goodfellow et al. 2014).
            loss_d = F.binary_cross_entropy_with_logits(lr_, torch.ones_like(lr_)) + F.binary_cross_entropy_with_logits(lf, torch.zeros_like(lf))
        if lazy_r1:  # Mescheder et al. 2018, lazy as Karras et al. 2020
            grad, = torch.autograd.grad(lr_.sum(), real_in, create_graph=True)
            loss_d = loss_d + a.r1_gamma / 2 * a.r1_every * grad.pow(2).sum([1, 2, 3]).mean()
        d_updates += 1
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        # G: the non-saturating loss, -log D(G(z)).
        if a.fresh_z:
            fake = g(torch.randn(len(idx), 100, device=device), y)
        lg = d(aug(fake), y)
        loss_g = -lg.mean() if a.loss == 'hinge' else F.binary_cross_entropy_with_logits(lg, torch.ones_like(lg))
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        if a.ema:  # with TensorFlow's warm-up, as the trainer
            k = min(a.ema, (1 + t) / (10 + t))
            with torch.no_grad():
                for ps, pg in zip(shown.parameters(), g.parameters()):
                    ps.lerp_(pg, 1 - k)
                for bs_, bg in zip(shown.buffers(), g.buffers()):
                    bs_.copy_(bg)
        return loss_d, loss_g

    def settle():
        """Standing statistics for the EMA generator (Brock et al. 2019, appendix C.1), as trainer/nn/network.ts."""
        norms = [m for m in shown.modules() if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))]
        for m in norms:
            m.reset_running_stats()
            m.momentum = None  # a cumulative average over the passes
        shown.train()
        stream = torch.Generator(device=device).manual_seed(0x5e771e)  # its own stream: training draws stay the same
        with torch.no_grad():
            for _ in range(128):  # STANDING_BATCHES in trainer/families/adversarial.ts
                y = ys[torch.randint(count, (64,), device=device, generator=stream)] if classes else None
                shown(torch.randn(64, 100, device=device, generator=stream), y)
        for m in norms:
            m.momentum = 0.1

    if a.steps:
        timing_run(a, train_step, count, bs, device, g_ch, d_ch)
        return
    os.makedirs(a.out, exist_ok=True)
    fixed = torch.randn(64, 100, device=device)
    fixed_y = (torch.arange(64, device=device) // 8) % max(classes, 1)
    log = open(os.path.join(a.out, 'log.jsonl'), 'w')
    started = time.time()
    print(f'{count} images {tuple(data.shape[1:])}, {batches} batches per epoch, {device}', flush=True)
    base_lrs = [(group, group['lr']) for o in (opt_g, opt_d) for group in o.param_groups]
    # Each part (end epoch, decay epochs) is one trainer invocation; without --lr-parts the run is one part.
    try:
        parts = [tuple(int(x) for x in part.split(':')) for part in a.lr_parts.split(',')] if a.lr_parts else [(a.epochs, a.lr_decay_epochs)]
    except ValueError:
        parts = []
    if not parts or any(len(x) != 2 or x[1] < 0 for x in parts) or parts[-1][0] != a.epochs or any(e1 >= e2 for (e1, _), (e2, _) in zip(parts, parts[1:])):
        p.error('--lr-parts: END:DECAY pairs with increasing END and DECAY >= 0, the last END equal to --epochs')
    for epoch in range(1, a.epochs + 1):
        order = torch.randperm(count, device=device)
        for b in range(batches):
            t = (epoch - 1) * batches + b
            # learningRateFactor in trainer/run/lr-schedule.ts (Zhu et al. 2017), in the part that holds step t.
            end, decay = next((e * batches, d * batches) for e, d in parts if t < e * batches)
            factor = max(0.0, min(1.0, (end - t) / decay)) if decay else 1.0
            for group, lr0 in base_lrs:
                group['lr'] = lr0 * factor
            loss_d, loss_g = train_step(order[b * bs:(b + 1) * bs], t)
        row = {'epoch': epoch, 'step': epoch * batches, 'd': loss_d.item(), 'g': loss_g.item(), 'lr': opt_g.param_groups[0]['lr'], 'wall': round(time.time() - started, 2)}
        log.write(json.dumps(row) + '\n')
        if epoch % a.grid_every == 0 or epoch in exports:
            print(json.dumps(row), flush=True)
            if a.standing_stats and a.ema:
                settle()
            shown.eval()
            with torch.no_grad():
                save_grid(shown(fixed, fixed_y if classes else None), os.path.join(a.out, f'grid-e{epoch:03d}.png'))
            shown.train()
        if epoch in exports:
            folder = os.path.join(a.out, f'pytorch-e{epoch:03d}')
            os.makedirs(folder, exist_ok=True)
            export_onnx(shown, os.path.join(folder, 'generator.onnx'), device)
            write_manifest(folder, a, row, classes, batches, data.shape[2], data.shape[1])
    log.close()


if __name__ == '__main__':
    main()
