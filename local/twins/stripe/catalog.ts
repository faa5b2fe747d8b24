import { type Ctx, priceOf, productOf } from './context';
import { invalidRequest, missingParam } from './errors';
import { applyMetadata, type Params } from './form';
import { renderPrice, renderProduct, renderTaxRate } from './render';
import type { Interval, PriceRecord, ProductRecord, TaxRateRecord } from './store';

const INTERVALS = ['day', 'week', 'month', 'year'] as const;
const TAX_BEHAVIORS = ['inclusive', 'exclusive', 'unspecified'] as const;

/** Stripe caps intervals at three years (https://docs.stripe.com/api/prices/create#create_price-recurring-interval_count). */
const MAX_INTERVAL_COUNT: Record<Interval, number> = { day: 1095, week: 156, month: 36, year: 3 };

export function readCurrency(params: Params, key = 'currency'): string {
  const currency = params.requiredString(key).toLowerCase();
  if (!/^[a-z]{3}$/.test(currency)) throw invalidRequest(`Invalid currency: ${currency}`, params.name(key));
  return currency;
}

/** Amounts are integers in the currency's minor unit; `unit_amount_decimal` must be whole here too. */
export function readUnitAmount(params: Params): number {
  const amount = params.int('unit_amount', { min: 0 });
  if (amount !== undefined) return amount;
  const decimal = params.string('unit_amount_decimal');
  if (decimal !== undefined) {
    if (!/^\d+(\.0+)?$/.test(decimal)) {
      throw invalidRequest(
        'The twin supports whole minor-unit amounts only (unit_amount_decimal without a fraction).',
        params.name('unit_amount_decimal'),
      );
    }
    return Number.parseInt(decimal, 10);
  }
  throw missingParam(params.name('unit_amount'));
}

export function readRecurring(params: Params | undefined): PriceRecord['recurring'] {
  if (params === undefined) return null;
  params.allow('interval', 'interval_count', 'usage_type');
  const interval = params.oneOf('interval', INTERVALS);
  if (interval === undefined) throw missingParam(params.name('interval'));
  const usage = params.string('usage_type');
  if (usage !== undefined && usage !== 'licensed') {
    throw invalidRequest(
      'The twin supports licensed (per-seat) recurring prices only.',
      params.name('usage_type'),
    );
  }
  const intervalCount = params.int('interval_count', { min: 1 }) ?? 1;
  if (intervalCount > MAX_INTERVAL_COUNT[interval]) {
    throw invalidRequest('The maximum billing interval is three years.', params.name('interval_count'));
  }
  return { interval, intervalCount };
}

function newProduct(ctx: Ctx, params: Params, id: string | undefined): ProductRecord {
  const { store } = ctx;
  const now = store.now();
  const product: ProductRecord = {
    id: id ?? store.id('prod_'),
    seq: store.nextSeq(),
    created: now,
    updated: now,
    name: params.requiredString('name'),
    description: params.nullableString('description') ?? null,
    active: params.bool('active') ?? true,
    metadata: applyMetadata({}, params.metadata()),
    defaultPrice: null,
    unitLabel: params.nullableString('unit_label') ?? null,
    taxCode: params.nullableString('tax_code') ?? null,
    url: params.nullableString('url') ?? null,
    images: params.strings('images') ?? [],
    statementDescriptor: params.nullableString('statement_descriptor') ?? null,
  };
  return product;
}

export function createProduct(ctx: Ctx, params: Params): ProductRecord {
  params.allow(
    'active',
    'default_price_data',
    'description',
    'id',
    'images',
    'metadata',
    'name',
    'statement_descriptor',
    'tax_code',
    'unit_label',
    'url',
  );
  const { store } = ctx;
  // Products, unlike most objects, accept a caller-chosen id (https://docs.stripe.com/api/products/create#create_product-id).
  const id = params.string('id');
  if (id !== undefined && store.products.has(id)) {
    throw invalidRequest('Product already exists.', 'id', 'resource_already_exists');
  }
  const product = newProduct(ctx, params, id);
  const priceData = params.object('default_price_data');
  let price: PriceRecord | undefined;
  if (priceData !== undefined) {
    priceData.allow(
      'currency',
      'metadata',
      'recurring',
      'tax_behavior',
      'unit_amount',
      'unit_amount_decimal',
    );
    price = {
      id: store.id('price_'),
      seq: store.nextSeq(),
      created: store.now(),
      product: product.id,
      currency: readCurrency(priceData),
      unitAmount: readUnitAmount(priceData),
      recurring: readRecurring(priceData.object('recurring')),
      active: true,
      nickname: null,
      lookupKey: null,
      metadata: applyMetadata({}, priceData.metadata()),
      taxBehavior: priceData.oneOf('tax_behavior', TAX_BEHAVIORS) ?? 'unspecified',
    };
    product.defaultPrice = price.id;
  }
  store.products.set(product.id, product);
  ctx.emit('product.created', renderProduct(product));
  if (price !== undefined) {
    store.prices.set(price.id, price);
    ctx.emit('price.created', renderPrice(price));
  }
  return product;
}

export function updateProduct(ctx: Ctx, id: string, params: Params): ProductRecord {
  params.allow(
    'active',
    'default_price',
    'description',
    'images',
    'metadata',
    'name',
    'statement_descriptor',
    'tax_code',
    'unit_label',
    'url',
  );
  const { store } = ctx;
  const product = productOf(store, id);
  const before = renderProduct(product);
  const next = structuredClone(product);
  const name = params.string('name');
  if (name !== undefined) {
    if (name === '') throw invalidRequest('You must provide a name for the product.', 'name');
    next.name = name;
  }
  const description = params.nullableString('description');
  if (description !== undefined) next.description = description;
  const active = params.bool('active');
  if (active !== undefined) next.active = active;
  const unitLabel = params.nullableString('unit_label');
  if (unitLabel !== undefined) next.unitLabel = unitLabel;
  const url = params.nullableString('url');
  if (url !== undefined) next.url = url;
  const taxCode = params.nullableString('tax_code');
  if (taxCode !== undefined) next.taxCode = taxCode;
  const descriptor = params.nullableString('statement_descriptor');
  if (descriptor !== undefined) next.statementDescriptor = descriptor;
  const images = params.strings('images');
  if (images !== undefined) next.images = images;
  const defaultPrice = params.nullableString('default_price');
  if (defaultPrice !== undefined) {
    if (defaultPrice !== null && priceOf(store, defaultPrice, 'default_price').product !== id) {
      throw invalidRequest(`The price ${defaultPrice} does not belong to product ${id}.`, 'default_price');
    }
    next.defaultPrice = defaultPrice;
  }
  next.metadata = applyMetadata(next.metadata, params.metadata());
  next.updated = store.now();
  Object.assign(product, next);
  const after = renderProduct(product);
  // `updated` alone moving is not a change worth an event.
  if (JSON.stringify({ ...after, updated: 0 }) !== JSON.stringify({ ...before, updated: 0 })) {
    ctx.emit('product.updated', after, before);
  }
  return product;
}

export function createPrice(ctx: Ctx, params: Params): PriceRecord {
  params.allow(
    'active',
    'currency',
    'lookup_key',
    'metadata',
    'nickname',
    'product',
    'product_data',
    'recurring',
    'tax_behavior',
    'transfer_lookup_key',
    'unit_amount',
    'unit_amount_decimal',
  );
  const { store } = ctx;
  const currency = readCurrency(params);
  const unitAmount = readUnitAmount(params);
  const recurring = readRecurring(params.object('recurring'));
  const taxBehavior = params.oneOf('tax_behavior', TAX_BEHAVIORS) ?? 'unspecified';
  const productData = params.object('product_data');
  const productId = params.string('product');
  if (productId === undefined && productData === undefined) throw missingParam('product');
  if (productId !== undefined && productData !== undefined) {
    throw invalidRequest('You may only specify one of these parameters: product, product_data.', 'product');
  }
  if (productId !== undefined) productOf(store, productId, 'product');
  let newProductRecord: ProductRecord | undefined;
  if (productData !== undefined) {
    productData.allow('active', 'id', 'metadata', 'name', 'statement_descriptor', 'tax_code', 'unit_label');
    newProductRecord = newProduct(ctx, productData, productData.string('id'));
  }
  const lookupKey = params.nullableString('lookup_key') ?? null;
  const holder =
    lookupKey === null ? undefined : [...store.prices.values()].find((p) => p.lookupKey === lookupKey);
  if (holder !== undefined && params.bool('transfer_lookup_key') !== true) {
    throw invalidRequest(
      `A price (\`${holder.id}\`) already uses that lookup key. Pass transfer_lookup_key=true to move it.`,
      'lookup_key',
    );
  }
  const price: PriceRecord = {
    id: store.id('price_'),
    seq: store.nextSeq(),
    created: store.now(),
    product: newProductRecord?.id ?? productId ?? '',
    currency,
    unitAmount,
    recurring,
    active: params.bool('active') ?? true,
    nickname: params.nullableString('nickname') ?? null,
    lookupKey,
    metadata: applyMetadata({}, params.metadata()),
    taxBehavior,
  };
  if (newProductRecord !== undefined) {
    store.products.set(newProductRecord.id, newProductRecord);
    ctx.emit('product.created', renderProduct(newProductRecord));
  }
  if (holder !== undefined) {
    const before = renderPrice(holder);
    holder.lookupKey = null;
    ctx.emit('price.updated', renderPrice(holder), before);
  }
  store.prices.set(price.id, price);
  ctx.emit('price.created', renderPrice(price));
  return price;
}

export function updatePrice(ctx: Ctx, id: string, params: Params): PriceRecord {
  params.allow('active', 'lookup_key', 'metadata', 'nickname', 'tax_behavior', 'transfer_lookup_key');
  const { store } = ctx;
  const price = priceOf(store, id);
  const before = renderPrice(price);
  const next = structuredClone(price);
  const active = params.bool('active');
  if (active !== undefined) next.active = active;
  const nickname = params.nullableString('nickname');
  if (nickname !== undefined) next.nickname = nickname;
  const taxBehavior = params.oneOf('tax_behavior', TAX_BEHAVIORS);
  if (taxBehavior !== undefined) {
    if (price.taxBehavior !== 'unspecified' && taxBehavior !== price.taxBehavior) {
      throw invalidRequest(
        'tax_behavior cannot be changed once it is inclusive or exclusive.',
        'tax_behavior',
      );
    }
    next.taxBehavior = taxBehavior;
  }
  const lookupKey = params.nullableString('lookup_key');
  let holder: PriceRecord | undefined;
  if (lookupKey !== undefined) {
    holder =
      lookupKey === null
        ? undefined
        : [...store.prices.values()].find((p) => p.lookupKey === lookupKey && p.id !== id);
    if (holder !== undefined && params.bool('transfer_lookup_key') !== true) {
      throw invalidRequest(`A price (\`${holder.id}\`) already uses that lookup key.`, 'lookup_key');
    }
    next.lookupKey = lookupKey;
  }
  next.metadata = applyMetadata(next.metadata, params.metadata());
  if (holder !== undefined) {
    const holderBefore = renderPrice(holder);
    holder.lookupKey = null;
    ctx.emit('price.updated', renderPrice(holder), holderBefore);
  }
  Object.assign(price, next);
  ctx.emit('price.updated', renderPrice(price), before);
  return price;
}

function readPercentage(params: Params): number {
  const raw = params.requiredString('percentage');
  if (!/^\d+(\.\d{1,4})?$/.test(raw) || Number(raw) > 100) {
    throw invalidRequest(`Invalid decimal: ${raw}`, 'percentage');
  }
  return Number(raw);
}

export function createTaxRate(ctx: Ctx, params: Params): TaxRateRecord {
  params.allow(
    'active',
    'country',
    'description',
    'display_name',
    'inclusive',
    'jurisdiction',
    'metadata',
    'percentage',
    'state',
    'tax_type',
  );
  const { store } = ctx;
  const inclusive = params.bool('inclusive');
  if (inclusive === undefined) throw missingParam('inclusive');
  const rate: TaxRateRecord = {
    id: store.id('txr_'),
    seq: store.nextSeq(),
    created: store.now(),
    displayName: params.requiredString('display_name'),
    description: params.nullableString('description') ?? null,
    percentage: readPercentage(params),
    inclusive,
    active: params.bool('active') ?? true,
    country: params.nullableString('country') ?? null,
    state: params.nullableString('state') ?? null,
    jurisdiction: params.nullableString('jurisdiction') ?? null,
    taxType: params.nullableString('tax_type') ?? null,
    metadata: applyMetadata({}, params.metadata()),
  };
  store.taxRates.set(rate.id, rate);
  ctx.emit('tax_rate.created', renderTaxRate(rate));
  return rate;
}

export function updateTaxRate(ctx: Ctx, id: string, params: Params): TaxRateRecord {
  params.allow('active', 'description', 'display_name', 'metadata');
  const rate = ctx.store.taxRates.get(id);
  if (!rate) throw invalidRequest(`No such tax rate: '${id}'`, 'id', 'resource_missing', 404);
  const before = renderTaxRate(rate);
  const next = structuredClone(rate);
  const active = params.bool('active');
  if (active !== undefined) next.active = active;
  const displayName = params.string('display_name');
  if (displayName !== undefined && displayName !== '') next.displayName = displayName;
  const description = params.nullableString('description');
  if (description !== undefined) next.description = description;
  next.metadata = applyMetadata(next.metadata, params.metadata());
  Object.assign(rate, next);
  ctx.emit('tax_rate.updated', renderTaxRate(rate), before);
  return rate;
}
