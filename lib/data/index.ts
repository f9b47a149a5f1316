// SPDX-License-Identifier: MIT
// Public exports of the data pipeline (datasets, CIFAR-10, MNIST/Fashion-MNIST, ImageFolder, IDX reader, downloader, loader,
// transforms); no code of its own. The image API is exported by lib/index.ts from image.ts.
export type { Batch, Dataset, Sample, TensorDatasetOptions } from './dataset';
export { TensorDataset } from './dataset';
export type { CIFAR10Options } from './cifar10';
export { CIFAR10, CIFAR10_CLASSES, CIFAR10_MD5, CIFAR10_MEAN, CIFAR10_STD, CIFAR10_URL } from './cifar10';
export type { ImageFolderOptions } from './image-folder';
export { IMAGE_EXTENSIONS, IMAGE_FOLDER_MEAN, IMAGE_FOLDER_SHAPE, IMAGE_FOLDER_STD, ImageFolder } from './image-folder';
export type { CIFAR10BytesOptions } from './cifar10-records';
export { CIFAR10Bytes } from './cifar10-records';
export type { DownloadOptions } from './download';
export { DownloadError, downloadFile, fileMd5 } from './download';
export type { DataLoaderOptions } from './loader';
export { DataLoader } from './loader';
export type { Transform } from './transforms';
export { compose, cutout, randomCrop, randomHorizontalFlip } from './transforms';
export type { IdxArray, ReadIdxOptions } from './idx';
export { parseIdx, readIdx } from './idx';
export type { MNISTOptions } from './mnist';
export {
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_MD5,
  FASHION_MNIST_MEAN,
  FASHION_MNIST_STD,
  FASHION_MNIST_URL,
  FashionMNIST,
  MNIST,
  MNIST_CLASSES,
  MNIST_MD5,
  MNIST_MEAN,
  MNIST_STD,
  MNIST_URL,
} from './mnist';
